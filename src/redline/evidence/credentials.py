"""The scan's own credentials never reach evidence.

What a run is configured with to reach its target (header values, the key in `api_key_env`,
credentials in a URL's userinfo, keys in its query string) is collected once from the config
and masked where it would enter the evidence: every target response and error as it reaches
the engine, and the config, target spec and fingerprint as the run is created. Nothing
downstream (store, reports, gate files, bundles, the terminal) ever sees the values.

The stored config keeps a header value only if it is a `${VAR}` reference (the secret stays
in the environment) or the header is declared safe (`safe_headers`); every other header value
is masked, whatever the header is called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from redline.core.models import TargetResponse

MASK = "***redacted***"
MIN_LENGTH = 4  # shorter values would mask ordinary words; a credential is longer
SECRET_NAME = re.compile(r"auth|key|token|secret|cookie|passw|session|sig|credential|cred",
                         re.IGNORECASE)
ENV_REFERENCE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")
URL_FIELDS = ("url", "base_url")


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [v for v in (parts.username, parts.password) if v]
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=False)
              if SECRET_NAME.search(k)]
    return found


def redact_url(url: str) -> str:
    """`url` with its userinfo and secret-named query values replaced by the mask."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(
        f"{quote(k, safe='')}={MASK if SECRET_NAME.search(k) else quote(v, safe='')}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def spec_masker(spec: str) -> Masker:
    """A masker for the credentials a CLI target spec carries (URL userinfo and secret
    query values, the key its `api_key_env` names)."""
    from redline.core.config import parse_target

    try:
        config = parse_target(spec).model_dump(mode="json")
    except Exception:  # not a target spec (demo, pipeline:FILE): only a URL can carry one
        return Masker.of(_url_secrets(spec.partition(":")[2]))
    return Masker.of(config_secrets(config))


def _header_secrets(headers: dict[str, Any], safe: Iterable[str]) -> list[str]:
    allowed = {h.lower() for h in safe}
    found = []
    for name, value in headers.items():
        if str(name).lower() in allowed:
            continue
        resolved = os.path.expandvars(str(value))
        found.append(resolved)
        found += resolved.split()[1:]  # "Bearer TOKEN": the token alone, if reflected
    return found


def config_secrets(config: Any) -> list[str]:
    """Every credential value a config (a model_dump, nested targets included) holds."""
    found: list[str] = []
    if isinstance(config, dict):
        if isinstance(config.get("headers"), dict):
            found += _header_secrets(config["headers"], config.get("safe_headers") or ())
        env = config.get("api_key_env")
        if isinstance(env, str) and os.environ.get(env):
            found.append(os.environ[env])
        for key in URL_FIELDS:
            if isinstance(config.get(key), str):
                found += _url_secrets(config[key])
        for value in config.values():
            if isinstance(value, dict | list):
                found += config_secrets(value)
    elif isinstance(config, list):
        for value in config:
            found += config_secrets(value)
    return found


@dataclass(frozen=True)
class Masker:
    """Replaces every known credential value in text by the mask."""

    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Masker:
        values = sorted({s for s in secrets if len(s) >= MIN_LENGTH}, key=len, reverse=True)
        if not values:
            return cls(None)
        variants = set(values)
        for v in values:  # as a URL or JSON would carry it
            variants.add(quote(v, safe=""))
            variants.add(v.encode("unicode_escape").decode("ascii"))
        ordered = sorted(variants, key=len, reverse=True)
        return cls(re.compile("|".join(re.escape(v) for v in ordered)))

    def text(self, value: str | None) -> str | None:
        if value is None or self.pattern is None:
            return value
        return self.pattern.sub(MASK, value)

    def response(self, resp: TargetResponse) -> TargetResponse:
        """The response as it may enter the engine: text, error, payload and meta masked."""
        if self.pattern is None:
            return resp
        return replace(resp, text=self.text(resp.text), error=self.text(resp.error),
                       meta=self.data(resp.meta) if resp.meta else resp.meta,
                       payload=self.data(resp.payload) if resp.payload else resp.payload)

    def data(self, value: Any) -> Any:
        """Every string in a JSON-like value masked."""
        if self.pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def redacted_config(config: Any) -> Any:
    """The config as stored: header values masked unless `${VAR}` references or declared
    safe; URL credentials and secret-named query values masked."""
    if isinstance(config, dict):
        out = {}
        safe = {h.lower() for h in config.get("safe_headers") or ()}
        for key, value in config.items():
            if key == "headers" and isinstance(value, dict):
                out[key] = {h: v if str(h).lower() in safe or ENV_REFERENCE.match(str(v))
                            else MASK for h, v in value.items()}
            elif (key in URL_FIELDS or (key == "db" and "://" in str(value))) and \
                    isinstance(value, str):  # a postgresql:// store's password too
                out[key] = redact_url(value)
            else:
                out[key] = redacted_config(value)
        return out
    if isinstance(config, list):
        return [redacted_config(v) for v in config]
    return config

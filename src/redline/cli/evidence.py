"""Evidence commands: replay, verify, sign, export and keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.base import (
    DEFAULT_DB,
    DbOption,
    app,
    console,
    keys_app,
    open_store,
)
from redline.core.errors import UsageError
from redline.core.safetext import safe


@app.command()
def replay(run: str, db: DbOption = DEFAULT_DB,
           out: Annotated[Path, typer.Option("--out", "-o")] = Path("redline-out")) -> None:
    """Re-judge a run from its recording with no target; exit 0 when verdicts match."""
    from redline.core.paths import check_dir_option
    from redline.evidence.replay import replay_run

    check_dir_option(out, "--out")
    open_store(db).close()
    rep = replay_run(db, run, out)
    console.print(f"replayed {safe(rep.source_id)} as {safe(rep.replay_id)} in {rep.wall_s:.2f}s: "
                  f"{rep.attempts} attempts, {len(rep.changed)} verdicts differ")
    console.print(f"report digest {rep.replay_digest[:16]} "
                  f"({'same as' if rep.same_digest else 'DIFFERENT from'} the original)")
    for attempt_id, before, after in rep.changed[:20]:
        console.print(f"  {safe(attempt_id)}: {safe(before)} -> {safe(after)}")
    raise typer.Exit(0 if rep.ok else 1)


@app.command()
def verify(
    run: Annotated[str | None, typer.Argument(help="Run id, prefix or latest.")] = None,
    db: DbOption = DEFAULT_DB,
    pubkey: Annotated[Path | None, typer.Option(help="Require a valid signature by this key.")
                      ] = None,
    bundle: Annotated[Path | None, typer.Option(help="Verify an exported evidence bundle.")
                      ] = None,
    tsa_cert: Annotated[Path | None, typer.Option(
        help="Require an RFC 3161 time-stamp over the signed head by the TSA with this "
        "certificate (PEM).")] = None,
) -> None:
    """Check a run's audit chain (and signature); name the first bad record. Exit 1 if bad."""
    from redline.evidence.keys import read_public
    from redline.evidence.tsa import load_tsa_cert
    from redline.evidence.verify import verify_bundle, verify_run

    pem = read_public(pubkey) if pubkey else None
    cert = None
    if tsa_cert is not None:
        try:
            cert = load_tsa_cert(tsa_cert.read_bytes(), str(tsa_cert))
        except OSError as exc:
            raise UsageError(f"cannot read TSA certificate {tsa_cert}: {exc.strerror}") from exc
    if bundle is not None:
        if not bundle.is_file():
            raise UsageError(f"no bundle at {bundle}")
        meta, rep = verify_bundle(bundle, pem, cert)
        label = f"bundle {bundle} (run {meta['run_id']}{', redacted' if meta['redacted'] else ''})"
    elif run is not None:
        store = open_store(db)
        info = store.get_run(run)
        rep = verify_run(store, info.id, pem, cert)
        store.close()
        label = f"run {safe(info.id)}"
    else:
        raise UsageError("give a RUN or --bundle FILE")
    chain = rep.chain
    if chain.ok:
        console.print(f"[green]chain ok[/]: {label}, {chain.links} records, head {chain.head}")
    else:
        console.print(f"[red]chain broken[/]: {label}: {len(chain.problems)} problem(s); first: "
                      f"{safe(str(chain.first_bad))}")
        for p in chain.problems[1:10]:
            console.print(f"  {safe(str(p))}")
    for sig in rep.signatures:
        colour = "green" if sig.ok else "red"
        console.print(f"[{colour}]signature[/] key {sig.key_id} at #{sig.seq}: {sig.reason}")
    for stamp in rep.timestamps:
        colour = "green" if stamp.ok else "red"
        console.print(f"[{colour}]timestamp[/] head #{stamp.seq} genTime {stamp.gen_time}: "
                      f"{safe(stamp.reason)}")
    for note in rep.notes:
        console.print(f"[yellow]note[/]: {safe(note)}")
    raise typer.Exit(0 if rep.ok else 1)


@app.command()
def sign(run: str, db: DbOption = DEFAULT_DB,
         key: Annotated[Path, typer.Option(help="Ed25519 private key (PEM).")] = Path(
             ".redline/keys/redline_ed25519"),
         tsa: Annotated[str | None, typer.Option(
             help="Also get an RFC 3161 time-stamp over the head from this time-stamping "
             "authority URL.")] = None) -> None:
    """Sign a run's current chain head (and time-stamp it with --tsa)."""
    from redline.evidence.verify import sign_run

    store = open_store(db)
    try:
        info = store.get_run(run)
        signed = sign_run(store, info.id, key, tsa_url=tsa)
    finally:
        store.close()
    console.print(f"signed {info.id} head #{signed['seq']} {signed['hash']} "
                  f"with key {signed['key_id']}")
    if "timestamp" in signed:
        console.print(f"time-stamped by {safe(str(tsa))} at {signed['timestamp']['gen_time']}")


@app.command()
def export(run: str, out: Annotated[Path, typer.Option("--out", "-o", help="Bundle path.")],
           db: DbOption = DEFAULT_DB,
           redact: Annotated[bool, typer.Option(
               help="Mask PII and canaries; the chain of the original still verifies.")] = False,
           key: Annotated[Path | None, typer.Option(
               help="With --redact: sign the list of redactions with this Ed25519 key, so "
               "`verify --bundle --pubkey` accepts them.")] = None,
           ) -> None:
    """Export a run's evidence as one archive that verifies on another machine."""
    from redline.core.paths import check_file_option
    from redline.evidence.verify import export_bundle

    if key is not None and not redact:
        raise UsageError("--key signs the redactions: use it with --redact")
    check_file_option(out, "--out")
    store = open_store(db)
    meta = export_bundle(store, run, out, redact=redact, key_path=key)
    store.close()
    console.print(f"wrote {out}: run {meta['run_id']}, {meta['links']} chained records"
                  f"{', redacted' if redact else ''}")


@keys_app.command("init")
def keys_init(
    path: Annotated[Path, typer.Option(help="Private key file to create.")] = Path(
        ".redline/keys/redline_ed25519"),
    force: Annotated[bool, typer.Option(help="Replace an existing key.")] = False,
) -> None:
    """Create an Ed25519 signing key pair (private key mode 0600)."""
    from redline.evidence.keys import DEFAULT_KEY, init_keys, key_id

    # the default place is made on first use; a path the user names must be in a directory
    private, public = init_keys(path, force, make_parents=path == DEFAULT_KEY)
    console.print(f"private key {private}\npublic key  {public} "
                  f"(id {key_id(public.read_text())})")

"""`tessera model export|check|reference`: bring your own model as a checked `torch.export` archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.cli.state import state

app = typer.Typer(
    help="Export your own PyTorch model for the 'export' workload, check it, upload it.", no_args_is_help=True
)


@app.command("export")
def model_export(
    ctx: typer.Context,
    factory: Annotated[
        str, typer.Argument(help="FILE.py:FUNCTION (or module:FUNCTION) returning an nn.Module.")
    ],
    example: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="safetensors: one example tensor per forward parameter, by name (also the job's input).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    outputs: Annotated[
        list[str] | None, typer.Option("--output", help="Output to return (repeat); all when absent.")
    ] = None,
    decimals: Annotated[
        int | None, typer.Option("--quantized", min=0, max=12, help="Round results to this many decimals.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write model.pt2, input.safetensors and spec.json here."),
    ] = None,
    upload: Annotated[
        bool, typer.Option("--upload/--no-upload", help="Upload archive and input to TESSERA_IPFS.")
    ] = True,
) -> None:
    """Export FACTORY's model on the example inputs, check it as workers do, upload it, print the job spec.

    Example: tessera model export my_model.py:build --input example.safetensors > spec.json
    """
    from offchain.compute import export_tool
    from offchain.compute.spec import Exact, Quantized

    current = state(ctx)
    with current.err.status("exporting and checking the model ..."):
        module = export_tool.load_module(factory)
        tensors = export_tool.read_tensors(example) if example is not None else {}
        exported = export_tool.export_module(module, tensors)
    checked = exported.checked
    current.err.print(
        f"checked: {checked.node_count} nodes, {len(checked.operators)} operators (all allowed), "
        f"{checked.parameter_bytes:,} bytes of weights, inputs {list(checked.input_names)}"
    )
    determinism = Exact(mode="exact") if decimals is None else Quantized(mode="quantized", decimals=decimals)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.pt2").write_bytes(exported.archive)
        (out / "input.safetensors").write_bytes(exported.inputs)
    if not upload:
        current.err.print("not uploaded (--no-upload): `tessera ipfs add` the files, then write the spec")
        return
    from offchain.ipfs.open import open_ipfs

    with open_ipfs(current.settings) as backend:
        published = export_tool.publish(backend, exported, outputs=outputs, determinism=determinism)
    current.err.print(f"model {published.model_cid}, input {published.input_cid}")
    if out is not None:
        (out / "spec.json").write_bytes(published.spec_bytes)
    typer.echo(published.spec_bytes.decode())


@app.command("check")
def model_check(
    archive: Annotated[Path, typer.Argument(help="A .pt2 archive.", exists=True, dir_okay=False)],
) -> None:
    """Check an archive exactly as workers do before they load it (E_UNSAFE_MODEL names the reason).

    Example: tessera model check model.pt2
    """
    from offchain.compute.export_tool import check_archive

    checked = check_archive(archive.read_bytes())
    typer.echo(f"ok: {checked.node_count} nodes, inputs {list(checked.input_names)}")
    for operator in sorted(checked.operators):
        typer.echo(f"  {operator}")


@app.command("reference")
def model_reference(
    name: Annotated[str, typer.Argument(help="gpt, cnn or lora.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for model.pt2 and input.safetensors.")
    ] = Path("."),
) -> None:
    """Write a reference model (built from seeds) and its inputs: a ready example of the export workload.

    Example: tessera model reference gpt --out gpt/
    """
    from offchain.compute.models.reference import REFERENCE_MODELS, reference_job

    if name not in REFERENCE_MODELS:
        raise typer.BadParameter(f"choose one of {', '.join(REFERENCE_MODELS)}", param_hint="NAME")
    job = reference_job(name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.pt2").write_bytes(job.archive)
    (out / "input.safetensors").write_bytes(job.inputs)
    typer.echo(str(out / "model.pt2"))

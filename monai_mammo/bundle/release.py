"""Model-zoo release archives: ``NAME_vX.Y.Z.zip`` of a bundle, checked the way model-zoo CI checks one.

The MONAI Model Zoo archives each version of a bundle as a zip of its folder and checks, before merging,
that the metadata follows the schema (``verify_metadata``), that the network takes and gives the shapes and
dtypes the metadata states (``verify_net_in_out``), that the checkpoint exports to TorchScript
(``ckpt_export``) and that no file exceeds 25 MB: a larger file is listed, with its download address and
hash, in ``large_files.yml`` at the bundle's root. :func:`build_release` runs those checks on a copy of the
bundle (:data:`~monai_mammo.bundle.distribution.BUNDLE_PARTS`, never ``eval/`` or ``runs/``), adds the
exported ``models/model.ts`` and writes the archive atomically; ``monai-mammo bundle zip NAME OUTDIR`` is its
command line. The metadata schema is read from the shipped ``schema/metadata_schema.json`` beside the
bundles: nothing is downloaded.

The archive holds one folder, ``NAME/``, as ``python -m monai.bundle download`` unpacks it; its configs run
the ``monai_mammo`` package, which must be installed where the archive is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monai_mammo.bundle.distribution import BUNDLE_PARTS, copy_bundle_parts
from monai_mammo.bundle.paths import locate_bundle_root

__all__ = ["ZOO_FILE_LIMIT", "BundleCheckError", "ReleaseArchive", "build_release", "release_name"]

ZOO_FILE_LIMIT = 25 * 1024 * 1024
"""The model zoo's limit on one file of a bundle (25 MB); larger files go into ``large_files.yml``."""

_SIZE_TERM = re.compile(r"^\s*(\d+)\s*\*\s*n\s*$")


class BundleCheckError(ValueError):
    """A bundle fails one of the model-zoo checks (the message names the bundle, the check and the cause)."""


@dataclass
class ReleaseArchive:
    """What :func:`build_release` wrote and checked.

    Args:
        path: the archive, ``OUTDIR/NAME_vX.Y.Z.zip``.
        name: the bundle's name.
        version: the metadata's version.
        checks: each check run and its outcome, in order (``{"verify_metadata": "passed", ...}``).
        large_files: the bundle-relative paths listed in ``large_files.yml`` (empty: no such file written).
    """

    path: Path
    name: str
    version: str
    checks: dict[str, str] = field(default_factory=dict)
    large_files: list[str] = field(default_factory=list)


def release_name(name: str, version: str) -> str:
    """The archive's file name, ``NAME_vX.Y.Z.zip``."""
    return f"{name}_v{version}.zip"


def _metadata(bundle: Path) -> dict:
    meta = json.loads((bundle / "configs" / "metadata.json").read_text(encoding="utf-8"))
    version = str(meta.get("version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise BundleCheckError(f"{bundle.name}: metadata version {version!r} is not X.Y.Z.")
    if version not in meta.get("changelog", {}):
        raise BundleCheckError(f"{bundle.name}: the changelog has no entry for version {version}.")
    return meta


def _schema_file(bundle_source: Path) -> Path:
    """The shipped model-zoo metadata schema: ``schema/`` beside the bundle, else the checkout's/package's."""
    candidates = [bundle_source.parent / "schema" / "metadata_schema.json"]
    here = Path(__file__).resolve()
    candidates += [here.parents[2] / "bundles" / "schema" / "metadata_schema.json"]
    candidates += [here.parents[1] / "bundles_data" / "schema" / "metadata_schema.json"]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"the metadata schema is not at {', '.join(map(str, candidates))}; pass schema=<the schema file>."
    )


def _check(bundle: Path, label: str, fn: object, **kwargs: object) -> None:
    try:
        fn(**kwargs)  # type: ignore[operator]
    except Exception as e:
        raise BundleCheckError(f"{bundle.name}: {label} failed: {e}") from e


def _example_shape(meta: dict) -> tuple[int, ...] | None:
    """An input shape (batch 1) from the metadata's ``image`` input: ints as they are, ``k*n`` with n=2."""
    spec = meta.get("network_data_format", {}).get("inputs", {}).get("image", {})
    sizes = []
    for term in spec.get("spatial_shape", []):
        if isinstance(term, int):
            sizes.append(term)
        elif isinstance(term, str) and (m := _SIZE_TERM.match(term)):
            sizes.append(int(m.group(1)) * 2)
        else:
            return None
    return (1, int(spec.get("num_channels", 1)), *sizes) if sizes else None


def _torchscript_matches(bundle: Path, meta: dict, torchscript: Path) -> str:
    """Run the exported TorchScript and the checkpoint's network on one input; they must agree."""
    import torch
    from monai.bundle import ConfigParser

    shape = _example_shape(meta)
    if shape is None:
        return "outputs not compared (no example input shape in the metadata)"
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / "inference.json"))
    parser["bundle_root"] = str(bundle)
    net = parser.get_parsed_content("network_def", instantiate=True)
    net.load_state_dict(torch.load(bundle / "models" / "model.pt", map_location="cpu", weights_only=True))
    net.eval()
    scripted = torch.jit.load(str(torchscript), map_location="cpu")
    scripted.eval()
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, got = net(x), scripted(x)
    if not torch.allclose(expected, got, rtol=1e-4, atol=1e-5):
        raise BundleCheckError(
            f"{bundle.name}: models/model.ts gives other outputs than models/model.pt "
            f"(max difference {float((expected - got).abs().max()):.3g})."
        )
    return f"models/model.ts computes what models/model.pt does on a {list(shape)} input"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def _export_torchscript(bundle: Path, meta: dict, files: dict[str, str]) -> str:
    """``ckpt_export`` to ``models/model.ts``: scripted, else traced on the metadata's input shape, else none.

    Returns what was done; the reason is kept when scripting (or tracing) fails, as the model zoo asks a
    bundle without TorchScript to say why.
    """
    from monai.bundle import ckpt_export

    torchscript = bundle / "models" / "model.ts"
    common: dict[str, Any] = {
        "net_id": "network_def",
        "filepath": str(torchscript),
        "ckpt_file": str(bundle / "models" / "model.pt"),
        "bundle_root": str(bundle),
        **files,
    }
    try:
        ckpt_export(**common)
        return f"scripted; {_torchscript_matches(bundle, meta, torchscript)}"
    except BundleCheckError:
        raise
    except Exception as e:
        scripting = _first_line(e)
    shape = _example_shape(meta)
    if shape is not None:
        try:
            ckpt_export(**common, use_trace=True, input_shape=list(shape))
            return f"not scriptable ({scripting}); traced on {list(shape)}; " + _torchscript_matches(
                bundle, meta, torchscript
            )
        except BundleCheckError:
            raise
        except Exception as e:
            scripting += f"; tracing failed too ({_first_line(e)})"
    torchscript.unlink(missing_ok=True)
    return f"skipped: not scriptable ({scripting})"


def _large_files(bundle: Path, limit: int, url: str | None, name: str, version: str) -> list[str]:
    """Write ``large_files.yml`` for the files above ``limit``; their bundle-relative paths."""
    large = sorted(p for p in bundle.rglob("*") if p.is_file() and p.stat().st_size > limit)
    paths = [p.relative_to(bundle).as_posix() for p in large]
    if not paths:
        return []
    if url is None:
        raise BundleCheckError(
            f"{name}: {', '.join(paths)} exceed the model zoo's {limit} bytes per file; pass the address "
            "they will be downloaded from (large_file_url, --large-file-url, {path} being the file's path)."
        )
    lines = ["large_files:"]
    for path, file in zip(paths, large):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        address = url.format(name=name, version=version, path=path)
        # JSON strings are YAML strings: no YAML writer needed
        lines += [
            f"  - path: {json.dumps(path)}",
            f"    url: {json.dumps(address)}",
            f"    hash_val: {json.dumps(digest)}",
            '    hash_type: "sha256"',
        ]
    (bundle / "large_files.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def build_release(
    name: str,
    out_dir: str | os.PathLike[str],
    source: str | os.PathLike[str] | None = None,
    schema: str | os.PathLike[str] | None = None,
    large_file_limit: int = ZOO_FILE_LIMIT,
    large_file_url: str | None = None,
) -> ReleaseArchive:
    """Check bundle ``name`` as model-zoo CI does and write ``out_dir/NAME_vX.Y.Z.zip``.

    Checks, in order, on a copy of the bundle: the version is X.Y.Z with a changelog entry; the metadata
    follows the shipped schema (``verify_metadata``); the network's inputs and outputs match the metadata
    (``verify_net_in_out``); the checkpoint exports to TorchScript (``ckpt_export``, giving
    ``models/model.ts``) and the export computes what the checkpoint does. Files above ``large_file_limit``
    are listed in ``large_files.yml`` (and kept in the archive, which is the full release).

    Args:
        name: the bundle's name, e.g. ``"mammo_lesion_segmentation"``.
        out_dir: the folder to write the archive to (made if needed).
        source: the bundle folder (default: :func:`~monai_mammo.bundle.paths.locate_bundle_root`).
        schema: the metadata schema file (default: the shipped ``schema/metadata_schema.json``).
        large_file_limit: the largest file, in bytes, that needs no ``large_files.yml`` entry.
        large_file_url: where the large files will be downloaded from; ``{path}``, ``{name}`` and
            ``{version}`` are filled in. Needed only when a file exceeds ``large_file_limit``.

    Returns:
        The archive and what was checked.

    Raises:
        BundleCheckError: when a check fails; nothing is written then.
        FileNotFoundError: when the bundle or the schema is not found.
    """
    from monai.bundle import verify_metadata, verify_net_in_out

    src = Path(source) if source is not None else Path(locate_bundle_root(name, start=Path.cwd()))
    if not (src / "configs" / "metadata.json").is_file():
        raise FileNotFoundError(f"{src} is not a bundle folder (no configs/metadata.json).")
    schema_file = Path(schema) if schema is not None else _schema_file(src)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{name}-release-") as tmp:
        bundle = Path(tmp) / name
        copy_bundle_parts(src, bundle, BUNDLE_PARTS)
        meta = _metadata(bundle)
        version = str(meta["version"])
        result = ReleaseArchive(out / release_name(name, version), name, version)
        result.checks["version"] = f"{version}, with a changelog entry"
        files = {
            "meta_file": str(bundle / "configs" / "metadata.json"),
            "config_file": str(bundle / "configs" / "inference.json"),
        }
        _check(
            bundle,
            "verify_metadata",
            verify_metadata,
            meta_file=files["meta_file"],
            filepath=str(schema_file),
        )
        result.checks["verify_metadata"] = f"passed against {schema_file.name}"
        _check(
            bundle, "verify_net_in_out", verify_net_in_out, net_id="network_def", device="cpu", n=2,
            bundle_root=str(bundle), **files,
        )  # fmt: skip
        result.checks["verify_net_in_out"] = "passed"
        result.checks["ckpt_export"] = _export_torchscript(bundle, meta, files)
        result.large_files = _large_files(bundle, large_file_limit, large_file_url, name, version)
        result.checks["large_files"] = (
            f"large_files.yml lists {', '.join(result.large_files)}"
            if result.large_files
            else f"no file above {large_file_limit} bytes"
        )
        partial = out / f".{result.path.name}.{secrets.token_hex(4)}.partial"
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(bundle.rglob("*")):
                    archive.write(path, path.relative_to(bundle.parent).as_posix())
            os.replace(partial, result.path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return result

"""The ``monai-mammo`` console command.

Sub-commands:

- ``phantom``: write synthetic DICOM MG mammograms with lesion masks and a datalist.
- ``prepare``: turn a public data set (CBIS-DDSM, VinDr-Mammo, INbreast, mini-MIAS, RSNA, CMMD, DDSM
  boxes) or a box-annotated dump (a YOLO folder, a CSV of boxes) into a MONAI datalist with patient-level
  splits.
- ``export-variants``: write one fold of a datalist as other exports would give it (8-bit, inverted grey,
  stretched, processed look), each with its own datalist, to measure a model on them.
- ``average-weights``: write the mean of fine-tuned copies of one network's weights (a model soup).
- ``label-app``: write a MONAI Label app folder that serves and trains the bundles.
- ``cache``: ``cache build --config_file CONFIG --cache_dir DIR`` fills a bundle's preprocessed cache
  (the deterministic steps of its training chain, once per data set and setting) ahead of a training run
  given the same ``--cache_dir``.
- ``bundle``: ``bundle get NAME DIR`` copies a bundle to ``DIR/NAME`` to edit and run; ``bundle path NAME``
  prints where a bundle is (a checkout's or the installed copy); ``bundle zip NAME OUTDIR`` checks a bundle
  as model-zoo CI does and writes its release archive ``NAME_vX.Y.Z.zip``.

Heavy imports happen inside each sub-command so that ``monai-mammo --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _phantom(args: argparse.Namespace) -> int:
    from monai_mammo.data.phantom import write_phantom_dataset

    datalist = write_phantom_dataset(args.out, n_images=args.n, shape=(args.rows, args.cols), seed=args.seed)
    print(f"wrote {args.n} phantom mammograms and their datalist to {datalist}")
    return 0


def _parse_options(pairs: Sequence[str]) -> dict[str, str]:
    """``["labels=a.csv", ...]`` -> ``{"labels": "a.csv"}``; a pair without ``=`` is a usage error."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option expects KEY=VALUE, got {pair!r}")
        options[key.strip().replace("-", "_")] = value
    return options


def _prepare(args: argparse.Namespace) -> int:
    from monai_mammo.data.datasets import CacheError, DatasetLayoutError, UnknownDatasetError, prepare_dataset

    try:
        # the KEY=VALUE strings go to the importer's ``**options``; a key that names one of the typed
        # parameters above is a TypeError of the call, reported below
        options: dict[str, Any] = _parse_options(args.option)
        out = prepare_dataset(
            args.name,
            root=args.root,
            out=args.out,
            seed=args.seed,
            cache_dir=args.cache,
            size=tuple(args.size) if args.size else None,
            workers=args.workers,
            **({"fractions": tuple(args.fractions)} if args.fractions else {}),
            official_split=not args.no_official_split,
            progress=not args.no_progress,
            **options,
        )
    except (DatasetLayoutError, UnknownDatasetError, CacheError, TypeError, ValueError) as err:
        print(f"monai-mammo prepare: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote datalist {out}")
    return 0


def _export_variants(args: argparse.Namespace) -> int:
    from monai_mammo.data.export_variants import write_export_variants

    try:
        written = write_export_variants(
            args.datalist,
            args.out,
            fold=args.fold,
            variants=args.variant or None,
            base_dir=args.base_dir,
            stretch=args.stretch,
        )
    except (OSError, ValueError) as err:
        print(f"monai-mammo export-variants: error: {err}", file=sys.stderr)
        return 2
    for variant, path in written.items():
        print(f"{variant}: {path}")
    return 0


def _average_weights(args: argparse.Namespace) -> int:
    from monai_mammo.networks.weight_averaging import average_weight_files

    try:
        written = average_weight_files(args.inputs, args.out, key=args.key)
    except (OSError, ValueError) as err:
        print(f"monai-mammo average-weights: error: {err}", file=sys.stderr)
        return 2
    print(f"mean of {len(args.inputs)} weight files: {written}")
    return 0


def _label_app(args: argparse.Namespace) -> int:
    from monai_mammo.label.app_folder import write_label_app

    try:
        app = write_label_app(
            args.out, names=args.bundle or None, bundles_dir=args.bundles, overwrite=args.overwrite
        )
    except (FileExistsError, FileNotFoundError) as err:
        print(f"monai-mammo label-app: error: {err}", file=sys.stderr)
        return 2
    served = ", ".join(sorted(p.name for p in (app / "model").iterdir()))
    print(f"wrote the MONAI Label app {app} ({served}); start it with:")
    print(f"  monailabel start_server --app {app} --studies <images folder> --conf models all")
    return 0


def _bundle_get(args: argparse.Namespace) -> int:
    from monai_mammo.bundle.distribution import copy_bundle

    try:
        folder = copy_bundle(args.name, args.dir, source=args.source)
    except (FileExistsError, FileNotFoundError) as err:
        print(f"monai-mammo bundle get: error: {err}", file=sys.stderr)
        return 2
    print(f"copied {args.name} to {folder}; run it with:")
    print(
        f"  python -m monai.bundle run --config_file {folder / 'configs' / 'inference.json'} --output_dir OUT"
    )
    return 0


def _bundle_path(args: argparse.Namespace) -> int:
    from monai_mammo.bundle.paths import locate_bundle_root

    try:
        print(locate_bundle_root(args.name, start=Path.cwd()))
    except FileNotFoundError as err:
        print(f"monai-mammo bundle path: error: {err}", file=sys.stderr)
        return 2
    return 0


def _bundle_zip(args: argparse.Namespace) -> int:
    from monai_mammo.bundle.release import BundleCheckError, build_release

    try:
        release = build_release(
            args.name,
            args.out,
            source=args.source,
            schema=args.schema,
            large_file_url=args.large_file_url,
        )
    except (BundleCheckError, FileNotFoundError) as err:
        print(f"monai-mammo bundle zip: error: {err}", file=sys.stderr)
        return 2
    for check, outcome in release.checks.items():
        print(f"{check}: {outcome}")
    print(f"wrote {release.path}")
    return 0


def _cache_build(args: argparse.Namespace) -> int:
    from monai_mammo.bundle.cache_build import build_bundle_cache, parse_override

    try:
        overrides = dict(parse_override(pair) for pair in args.set)
    except ValueError as err:
        print(f"monai-mammo cache build: error: {err}", file=sys.stderr)
        return 2
    report = build_bundle_cache(
        args.config_file,
        args.cache_dir,
        overrides=overrides,
        transforms_id=args.transforms_id,
        datalist_ids=args.datalist_id or ("train#datalist", "validate#datalist"),
        workers=args.workers,
        progress=not args.no_progress,
        prune=args.prune,
    )
    per_image = report.nbytes / max(report.written + report.found, 1)
    print(
        f"{report.items} items: {report.written} written, {report.found} found, {len(report.failed)} failed"
        + (f", {report.pruned} stale entries removed" if args.prune else "")
        + f" in {report.seconds:.1f} s; {report.nbytes / 2**20:.1f} MiB"
        + f" ({per_image / 2**10:.0f} KiB per entry)"
        + f" in {', '.join(str(f) for f in report.folders) or report.folder}"
    )
    for source, error, message in report.failed:
        print(f"failed: {source}: {error}: {message}", file=sys.stderr)
    return 1 if report.failed and len(report.failed) == report.items else 0


def _add_cache_commands(sub: Any) -> None:
    cache = sub.add_parser("cache", help="fill a bundle's preprocessed cache (deterministic steps, once)")
    commands = cache.add_subparsers(dest="cache_command", required=True)
    build = commands.add_parser(
        "build", help="write the missing entries of a bundle's datalists (same settings as the training run)"
    )
    build.add_argument(
        "--config_file", nargs="+", required=True, help="the bundle config(s), e.g. train.json"
    )
    build.add_argument(
        "--cache_dir", type=Path, required=True, help="the cache folder (the run's --cache_dir)"
    )
    build.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="a config override as the run gets it (VALUE as JSON, else text), repeatable: "
        "--set image_size=1024 --set datalist=/data/datalist.json",
    )
    build.add_argument("--workers", type=int, default=2, help="worker processes (default 2; 0: this one)")
    build.add_argument(
        "--transforms_id",
        default=None,
        help="the deterministic transform list for every datalist (default: each datalist's section's "
        "deterministic_transforms when the config has one, else train#deterministic_transforms)",
    )
    build.add_argument(
        "--datalist_id",
        action="append",
        default=[],
        help="a datalist id to cache, repeatable (default: train#datalist and validate#datalist)",
    )
    build.add_argument("--prune", action="store_true", help="remove entries no datalist item uses any more")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.set_defaults(func=_cache_build)


def _add_bundle_commands(sub: Any) -> None:
    bundle = sub.add_parser("bundle", help="get, locate or release a bundle (model-zoo archive)")
    commands = bundle.add_subparsers(dest="bundle_command", required=True)
    source_help = "the bundle folder to use (default: ./bundles/NAME, the checkout's or the installed copy)"

    get = commands.add_parser("get", help="copy a bundle to DIR/NAME, to edit and run")
    get.add_argument("name", help="mammo_lesion_segmentation | mammo_classification")
    get.add_argument("dir", type=Path, help="the folder to put the bundle folder NAME in")
    get.add_argument("--source", type=Path, default=None, help=source_help)
    get.set_defaults(func=_bundle_get)

    path = commands.add_parser(
        "path", help="print the folder of a bundle (a checkout's or the installed copy)"
    )
    path.add_argument("name", help="mammo_lesion_segmentation | mammo_classification")
    path.set_defaults(func=_bundle_path)

    release = commands.add_parser("zip", help="check a bundle as model-zoo CI does, write NAME_vX.Y.Z.zip")
    release.add_argument("name", help="mammo_lesion_segmentation | mammo_classification")
    release.add_argument("out", type=Path, help="the folder to write the archive to")
    release.add_argument("--source", type=Path, default=None, help=source_help)
    release.add_argument(
        "--schema", type=Path, default=None, help="metadata schema (default: the shipped one)"
    )
    release.add_argument(
        "--large-file-url",
        default=None,
        help="download address of files above 25 MB for large_files.yml, with {path} (and {name}, {version})",
    )
    release.set_defaults(func=_bundle_zip)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``monai-mammo`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(prog="monai-mammo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    phantom = sub.add_parser("phantom", help="write synthetic DICOM MG mammograms, masks and a datalist")
    phantom.add_argument("--out", type=Path, required=True, help="output folder")
    phantom.add_argument("--n", type=int, default=12, help="number of images, 4 per woman (default 12)")
    phantom.add_argument("--rows", type=int, default=512, help="image rows (default 512)")
    phantom.add_argument("--cols", type=int, default=416, help="image columns (default 416)")
    phantom.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    phantom.set_defaults(func=_phantom)

    prepare = sub.add_parser("prepare", help="import a public data set into a MONAI datalist")
    prepare.add_argument(
        "name",
        help="cbis_ddsm | vindr | inbreast | mini_mias | rsna | cmmd | ddsm_boxes | yolo_boxes | box_csv",
    )
    prepare.add_argument("--root", type=Path, required=True, help="the data set's folder as downloaded")
    prepare.add_argument("--out", type=Path, required=True, help="datalist JSON to write")
    prepare.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    prepare.add_argument("--cache", type=Path, default=None, help="decode/preprocess once into this folder")
    prepare.add_argument("--size", type=int, nargs=2, metavar=("ROWS", "COLS"), help="cache image size")
    prepare.add_argument("--workers", type=int, default=2, help="parallel cache workers (default 2)")
    prepare.add_argument(
        "--fractions",
        type=float,
        nargs=3,
        metavar=("TRAIN", "VAL", "TEST"),
        default=None,
        help="patient shares of the folds (default 0.7 0.1 0.2)",
    )
    prepare.add_argument("--no-official-split", action="store_true", help="ignore the set's own split")
    prepare.add_argument("--no-progress", action="store_true", help="no progress bar")
    prepare.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="importer option, repeatable: labels=CSV (cbis_ddsm), info_file=TXT (mini_mias), "
        "table=CSV (inbreast, rsna, box_csv), images_dir=DIR (vindr, rsna, box_csv), clinical=FILE (cmmd), "
        "class_pathology=NAME=PATHOLOGY,... (yolo_boxes, box_csv), data_yaml=YAML (yolo_boxes), "
        "image_column=, box_columns=, box_format=xyxy|xywh, label_column=, patient_column= (box_csv)",
    )
    prepare.set_defaults(func=_prepare)

    variants = sub.add_parser(
        "export-variants", help="write a datalist fold as other exports give it (inverted, stretched, ...)"
    )
    variants.add_argument("--datalist", type=Path, required=True, help="the datalist JSON")
    variants.add_argument("--out", type=Path, required=True, help="folder for one sub-folder per variant")
    variants.add_argument("--fold", default="test", help="the datalist key to copy (default test)")
    variants.add_argument(
        "--variant",
        action="append",
        default=[],
        help="plain | inverted | stretched | processed, repeatable (default: all)",
    )
    variants.add_argument("--base-dir", type=Path, default=None, help="where the datalist's paths start")
    variants.add_argument("--stretch", type=float, default=1.3, help="column factor of 'stretched' (1.3)")
    variants.set_defaults(func=_export_variants)

    average = sub.add_parser(
        "average-weights", help="write the mean of fine-tuned copies of one network's weights (a model soup)"
    )
    average.add_argument("out", type=Path, help="the weights file to write (a bare state dict)")
    average.add_argument("inputs", type=Path, nargs="+", help="two or more weight files of one architecture")
    average.add_argument(
        "--key", default=None, help="the entry holding the weights in each file ('network' for checkpoint.pt)"
    )
    average.set_defaults(func=_average_weights)

    label = sub.add_parser("label-app", help="write a MONAI Label app folder serving the bundles")
    label.add_argument("out", type=Path, help="the app folder to write")
    label.add_argument(
        "--bundle",
        action="append",
        default=[],
        metavar="NAME",
        help="a bundle to serve, repeatable (default: all)",
    )
    label.add_argument("--bundles", type=Path, default=None, help="the folder holding the bundles")
    label.add_argument("--overwrite", action="store_true", help="replace an existing app folder")
    label.set_defaults(func=_label_app)

    _add_cache_commands(sub)
    _add_bundle_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``monai-mammo``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

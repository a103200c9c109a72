"""The ``nfe-train`` command line: data, training and reports."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from nfe_core.cli.common import (
    EXIT_CANCELLED,
    Parser,
    add_device_option,
    add_seed_option,
    dispatch,
    make_command_parser,
    number_from_to,
    positive_int,
    progress_bar,
    run,
    whole_number,
)

_DESCRIPTION = """\
Neural Face Editor training tools: render the procedural anime-face set, train models and
write their quality reports.

Run 'nfe-train COMMAND --help' for what each command does."""

_EPILOG = """\
examples:
  nfe-train synth --count 64 --size 64 --out faces --grid faces.png
  nfe-train gan --data synthetic --size 32 --steps 200 --out run"""


def _size(text: str) -> int:
    from training.synth.render import MAX_SIZE, MIN_SIZE

    value = positive_int(text)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"expected a size from {MIN_SIZE} to {MAX_SIZE} pixels, got {value}"
        )
    return value


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="render labelled procedural anime faces to a folder",
        description=(
            "Render COUNT procedural anime faces of SIZE x SIZE pixels into folder OUT as\n"
            "000000.png, 000001.png, ... with their ground-truth labels in OUT/labels.csv\n"
            "(a 'file' column and one column per attribute). The same --seed gives the same\n"
            "faces. The folder is written completely or not at all."
        ),
        epilog="example:\n  nfe-train synth --count 1000 --size 128 --out faces --grid grid.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--count", type=positive_int, required=True, metavar="N", help="number of faces to render"
    )
    p.add_argument(
        "--size",
        type=_size,
        required=True,
        metavar="S",
        help="side of the square pictures in pixels, 32 to 512",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write; must not exist or be empty (see --force)",
    )
    add_seed_option(p, "drawing the faces")
    p.add_argument(
        "--grid",
        type=Path,
        metavar="FILE",
        help="also write a labelled 8x8 grid of the first faces (.png, .jpg or .webp)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="W",
        help="worker processes (default: one per CPU core)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace OUT if it already holds a face set"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    from nfe_core.imageio import save_image, write_format
    from training.synth.grid import face_grid
    from training.synth.render import render_face
    from training.synth.writer import face_params, write_face_set

    if args.grid is not None:
        write_format(args.grid)  # an unsupported grid type fails before any work is done
    with progress_bar("rendering", args.count, unit="face", quiet=args.quiet) as bar:
        write_face_set(
            args.out,
            args.count,
            args.size,
            args.seed,
            workers=args.workers,
            overwrite=args.force,
            progress=bar,
        )
    if args.grid is not None:
        params = face_params(args.seed, min(64, args.count))
        faces = [(p, render_face(p, args.size).image) for p in params]
        save_image(face_grid(faces), args.grid)
    print(
        f"wrote {args.count} faces of {args.size}x{args.size} px to {args.out}"
        + (f" and a sample grid to {args.grid}" if args.grid else ""),
        file=sys.stderr,
    )
    return 0


def _gan_size(text: str) -> int:
    from training.gan.config import check_size

    try:
        return check_size(positive_int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("size: ")) from None


_GAN_DESCRIPTION = """\
Train a StyleGAN2 generator (and its discriminator) on procedural anime faces rendered on
the fly (--data synthetic) or on any folder of pictures (searched recursively, scaled and
centre-cropped to SIZE). Non-saturating logistic loss with lazy R1, an EMA generator, Adam,
style mixing; mixed precision and torch.compile on CUDA as the config says.

The run folder OUT gets options.json, losses.csv (one row per step), samples/step_N.png
(the EMA generator's faces for the same fixed latents), checkpoints/latest.pt and, at the
end, the model bundle OUT/bundle/ (see 'nfe info OUT/bundle').

Ctrl+C stops after the current step and saves a checkpoint (exit status 130); --resume
continues exactly where the run stopped: same step, optimiser states, EMA and data order.
--steps is the total number of steps, so '--resume --steps 2000' extends a run to 2000.

--config FILE is a JSON object overriding settings of the default config, e.g.
  {"batch_size": 16, "r1_gamma": 5, "checkpoint_interval": 500,
   "generator": {"channels": [256, 256, 128, 64]}, "amp": "bf16", "compile": true}
(settings: batch_size, g_lr, d_lr, betas, r1_gamma, r1_interval, ema_half_life_images,
ema_rampup, mixing_prob, checkpoint_interval, keep_interval, sample_interval, sample_count,
synthetic_count, num_workers, amp, compile, generator, discriminator, detail_box,
detail_weight, guide_weight, guide_shares, mirror_weight, mirror_attributes, linear_weight;
the resolved config is in OUT/options.json). "detail_box": [left, top, size], as fractions
of the image, adds a second discriminator that judges only that square (eyes, mouth), e.g.
[0.25, 0.15625, 0.5] at 64 px; a run begun from a checkpoint (--start-from) may add one.
"guide_weight": W above 0 adds W times how unclearly a classifier (--guide) reads the fakes'
attributes to the generator's loss, the batch asked to show every class alike
("guide_shares": "uniform") or as often as the data's labels have it ("data"); with it,
"mirror_weight": M and "mirror_attributes": ["eye_color"] add M times how differently the
guide reads those attributes in each fake's left half beside its mirror image and in its
right half likewise (both eyes drawn in one colour); "linear_weight": L adds L times how far
the guide's readings are from what a linear probe on each fake's latent (trained alongside)
predicts, so that the attributes' classes lie on either side of hyperplanes in W.

Several GPUs (or CPU processes): start the same command with torchrun, e.g.
  torchrun --standalone --nproc_per_node=4 -m training.cli gan --data synthetic ...
The batch size is the total over all processes."""


def _add_gan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gan",
        help="train the StyleGAN2 generator; writes checkpoints, samples and a model bundle",
        description=_GAN_DESCRIPTION,
        epilog=(
            "examples:\n"
            "  nfe-train gan --data synthetic --size 32 --steps 200 --out run\n"
            "  nfe-train gan --data synthetic --size 32 --steps 1000 --out run --resume\n"
            "  nfe-train gan --data ~/pictures/faces --size 64 --steps 20000 --out run64"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="synthetic|FOLDER",
        help="'synthetic' for procedural faces, or a folder of pictures",
    )
    p.add_argument(
        "--size",
        type=_gan_size,
        required=True,
        metavar="S",
        help="resolution in pixels: a power of two from 32 to 1024",
    )
    p.add_argument(
        "--steps", type=positive_int, required=True, metavar="N", help="total training steps"
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="RUN_DIR",
        help="run folder: must not exist or be empty, unless --resume",
    )
    p.add_argument("--config", type=Path, metavar="FILE", help="JSON settings (see above)")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR")
    p.add_argument(
        "--start-from",
        type=Path,
        metavar="CHECKPOINT",
        help="begin the new RUN_DIR from a checkpoint of the same run, e.g. a compact one "
        "committed between sittings (see 'nfe-train compact')",
    )
    p.add_argument(
        "--guide",
        type=Path,
        metavar="CLASSIFIER_RUN",
        help="an 'nfe-train classifier' run folder whose readings guide the generator (needs "
        "guide_weight above 0 in the config; the checkpoints carry it, so --resume does not "
        "take it again)",
    )
    add_seed_option(p, "the data order, the latents and the networks' initial weights")
    add_device_option(p)
    p.add_argument(
        "--batch",
        type=positive_int,
        metavar="B",
        help="images per step over all processes (overrides the config's batch_size)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check options and data, load one batch, build the networks, write nothing",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_gan)


@contextmanager
def _stop_on_signals(
    stop: threading.Event,
    speak: bool,
    message: str = "stopping after this step and saving a checkpoint",
) -> Iterator[None]:
    """Ctrl+C / SIGTERM set ``stop`` (training ends after the step, with a checkpoint, and
    ``message`` says so); a second Ctrl+C raises KeyboardInterrupt at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        if speak:
            sys.stderr.write(f"\n{message} (Ctrl+C again: at once)\n")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _gan(args: argparse.Namespace) -> int:
    from training.gan.distributed import dist_info_from_env
    from training.gan.train import DryRun, TrainingCancelled, TrainOptions, train_gan

    main_process = dist_info_from_env().is_main
    options = TrainOptions(
        data=args.data,
        size=args.size,
        steps=args.steps,
        out=args.out,
        config_file=args.config,
        resume=args.resume,
        seed=args.seed,
        device=args.device,
        batch=args.batch,
        dry_run=args.dry_run,
        start_from=args.start_from,
        guide=args.guide,
    )
    quiet = args.quiet or args.dry_run or not main_process
    stop = threading.Event()
    try:
        with _stop_on_signals(stop, speak=main_process and not args.quiet), ExitStack() as stack:
            bars: list[Callable[[int, int], None]] = []

            def progress(done: int, total: int) -> None:  # the bar appears once training does
                if not bars:
                    bar = progress_bar("training", total, unit="img", quiet=quiet)
                    bars.append(stack.enter_context(bar))
                bars[0](done, total)

            result = train_gan(
                options,
                should_stop=stop.is_set,
                progress=progress,
                log=lambda text: print(text, file=sys.stderr),
            )
    except TrainingCancelled as exc:
        if main_process:
            sys.stderr.write(f"error: {exc}\n")
        return EXIT_CANCELLED
    if isinstance(result, DryRun):
        if main_process:
            print("\n".join(result.lines))
        return 0
    if main_process:
        print(
            f"trained {result.run_dir} to step {result.step} ({result.images_seen} images, "
            f"{result.images_per_s:.1f} images/s); bundle: {result.bundle}",
            file=sys.stderr,
        )
    return 0


_CLASSIFIER_DESCRIPTION = """\
Train the attribute classifier on procedural faces of S x S pixels with their ground-truth
labels, and measure its accuracy per attribute on held-out faces drawn with another seed.
The faces are rendered once into memory, then trained on for E epochs.

--role annotator (default) trains the network whose predictions label generated faces;
--role judge trains an independent one (another width and normalisation, other faces, other
initial weights) that only grades edits, so no figure is graded by the labelling network.

OUT receives options.json, metrics.json (held-out accuracy per attribute, 0..1),
classifier.json (the network config) and classifier.safetensors; it is written completely
or not at all and must not exist or be empty."""


def _add_classifier(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "classifier",
        help="train the attribute classifier (annotator or judge) on procedural faces",
        description=_CLASSIFIER_DESCRIPTION,
        epilog=(
            "examples:\n"
            "  nfe-train classifier --size 64 --out clf64\n"
            "  nfe-train classifier --size 64 --out judge64 --role judge"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--size", type=_size, required=True, metavar="S", help="side of the faces in pixels"
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="run folder to write")
    p.add_argument(
        "--role",
        choices=("annotator", "judge"),
        default="annotator",
        help="which of the two classifiers to train (default: annotator)",
    )
    p.add_argument(
        "--train-count",
        type=positive_int,
        default=20_000,
        metavar="N",
        help="training faces (default: 20000)",
    )
    p.add_argument(
        "--test-count",
        type=positive_int,
        default=2_000,
        metavar="N",
        help="held-out faces (default: 2000)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=20,
        metavar="E",
        help="passes over the training faces (default: 20)",
    )
    p.add_argument(
        "--consistency",
        type=number_from_to(float, 0, 100),
        default=0.0,
        metavar="C",
        help="train on twins too (each face and the same face with one attribute changed) "
        "with this weight on their other readings agreeing; 0: no twins (default: 0)",
    )
    add_seed_option(p, "the faces, the data order and the initial weights")
    add_device_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_classifier)


def _phase_bars(stack: ExitStack, quiet: bool) -> Callable[[str, str], Callable[[int, int], None]]:
    """``bar(name, unit)``: a progress callable per phase of a job (rendering, training...);
    each phase's bar appears with its first report and replaces the last phase's. The bars
    close with ``stack``."""
    shown: list[tuple[str, ExitStack, Callable[[int, int], None]]] = []

    def bar(name: str, unit: str) -> Callable[[int, int], None]:
        def update(done: int, total: int) -> None:
            if not shown or shown[-1][0] != name:
                if shown:
                    shown[-1][1].close()
                own = stack.enter_context(ExitStack())
                made = own.enter_context(progress_bar(name, total, unit=unit, quiet=quiet))
                shown.append((name, own, made))
            shown[-1][2](done, total)

        return update

    return bar


def _classifier(args: argparse.Namespace) -> int:
    from training.classifier.train import ClassifierOptions, check_out, train_classifier

    options = ClassifierOptions(
        size=args.size,
        out=args.out,
        role=args.role,
        train_count=args.train_count,
        test_count=args.test_count,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        consistency=args.consistency,
    )
    check_out(options.out)  # fail before minutes of rendering
    log = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    with ExitStack() as stack:
        bar = _phase_bars(stack, args.quiet)
        result = train_classifier(
            options,
            render_progress=bar("rendering", "face"),
            train_progress=bar("training", "step"),
            log=log,
        )
    worst = min(result.accuracy, key=result.accuracy.__getitem__)
    print(
        f"trained the {args.role} ({result.parameters} parameters) in "
        f"{result.train_seconds:.0f} s; held-out accuracy: "
        + ", ".join(f"{k} {v:.4f}" for k, v in result.accuracy.items())
        + f" (lowest: {worst}); held-out twins read alike on "
        + ", ".join(f"{k} {v:.4f}" for k, v in result.twin_agreement.items())
        + f"; wrote {result.run_dir}",
        file=sys.stderr,
    )
    return 0


_ATTRIBUTES_DESCRIPTION = """\
Give a model bundle its attribute sliders: sample N latents, render them, label the renders
(with the annotator classifier by default), and fit one linear SVM per boundary in W space on
a held-out split - one per two-class attribute, one per class of a categorical attribute
(one-vs-rest), plus one short -> long direction for hair_length. Faces the labels are unsure
of are left out; classes are weighted to balance them; each boundary records its balanced
test accuracy, sample counts and spread.

The bundle is rewritten in place with the classifier(s), the boundaries and their figures
(its quality report is cleared: run 'nfe-train report' again). Any bundle works, e.g. one
made by 'nfe import-stylegan2', given a classifier (--classifier) or another label source.
The labels are kept in WORK/labels.npz and reused by a rerun with the same options."""


def _add_attributes(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attributes",
        help="label generated faces and fit the attribute boundaries of a bundle",
        description=_ATTRIBUTES_DESCRIPTION,
        epilog=(
            "examples:\n"
            "  nfe-train attributes --model run/bundle --classifier clf64 --judge judge64\n"
            "  nfe-train attributes --model imported --labels wd14:tagger --classifier clf64"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", type=Path, required=True, metavar="BUNDLE", help="bundle folder")
    p.add_argument(
        "--classifier",
        type=Path,
        metavar="RUN_DIR",
        help="annotator run folder ('nfe-train classifier') to put into the bundle "
        "(default: the bundle's own)",
    )
    p.add_argument(
        "--judge",
        type=Path,
        metavar="RUN_DIR",
        help="judge run folder ('nfe-train classifier --role judge') to put into the bundle",
    )
    p.add_argument(
        "--labels",
        default="classifier",
        metavar="SOURCE",
        help="what labels the renders: classifier (default), wd14:FOLDER (an ONNX tagger "
        "with model.onnx and selected_tags.csv)",
    )
    p.add_argument(
        "--count",
        type=positive_int,
        default=20_000,
        metavar="N",
        help="latents to sample and label (default: 20000)",
    )
    p.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="folder for labels.npz (default: BUNDLE-attributes beside the bundle)",
    )
    add_seed_option(p, "the latents and the train/test split")
    add_device_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_attributes)


def _attributes(args: argparse.Namespace) -> int:
    from nfe_core.cli.common import CliError
    from training.attributes import AttributeOptions, train_attributes, worst_accuracy
    from training.labels import LabelError, load_classifier_run, open_label_source

    if args.count < 100:
        raise CliError(f"--count: at least 100 latents are needed, got {args.count}")
    try:
        classifier = load_classifier_run(args.classifier) if args.classifier else None
        judge = load_classifier_run(args.judge) if args.judge else None
        source = None
        if args.labels != "classifier":
            source = open_label_source(args.labels, device=args.device)
    except LabelError as exc:
        raise CliError(str(exc)) from None
    options = AttributeOptions(count=args.count, seed=args.seed)
    work = args.work or args.model.with_name(args.model.name + "-attributes")
    log = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    with progress_bar("labelling", args.count, unit="face", quiet=args.quiet) as bar:
        result = train_attributes(
            args.model,
            options,
            work=work,
            classifier=classifier,
            judge=judge,
            source=source,
            source_name=args.labels,
            device=args.device,
            progress=bar,
            log=log,
        )
    name, accuracy = worst_accuracy(result.fitted)
    print(
        f"fitted {len(result.fitted)} boundaries ({len(result.skipped)} skipped); lowest "
        f"balanced test accuracy {accuracy:.4f} ({name}); wrote {result.bundle}",
        file=sys.stderr,
    )
    return 0


_REPORT_DESCRIPTION = """\
Measure a model bundle and write its quality report: report.json, report.md and one edit
strip per attribute (strip_ATTR.png) in OUT, and the same figures into the bundle
('nfe info BUNDLE' prints them, 'nfe info --json' has them under 'report').

Edits and samples are judged by the bundle's judge, a classifier trained independently of
the annotator that labelled the boundaries. Figures (fractions in 0..1): classifier_accuracy
and judge_accuracy per attribute on held-out procedural renders; svm_test_accuracy (balanced)
per boundary; edit_success and preservation per attribute for class-target edits with every
other attribute preserved, and the same without preserving (..._unconditional);
frechet_distance between generated and procedural renders in the judge's feature space (not
Inception FID) with frechet_floor (real vs real); precision and recall (k-NN manifolds)."""


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="measure a bundle and write its quality report",
        description=_REPORT_DESCRIPTION,
        epilog="examples:\n  nfe-train report --model run/bundle\n"
        "  nfe-train report --model run/bundle --out docs/report --faces 1000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", type=Path, required=True, metavar="BUNDLE", help="bundle folder")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where the report goes (default: BUNDLE-report beside the bundle)",
    )
    p.add_argument(
        "--faces",
        type=positive_int,
        default=500,
        metavar="N",
        help="generated faces per edit figure (default: 500)",
    )
    p.add_argument(
        "--frechet-count",
        type=positive_int,
        default=5_000,
        metavar="N",
        help="faces per set for the Frechet distance, precision and recall (default: 5000)",
    )
    p.add_argument(
        "--inversion-faces",
        type=positive_int,
        default=200,
        metavar="N",
        help="held-out faces inverted for the inversion figures (default: 200)",
    )
    p.add_argument(
        "--inversion-steps",
        type=whole_number(0),
        default=None,
        metavar="N",
        help="refinement steps of each inversion (default: the app's)",
    )
    p.add_argument(
        "--tune-steps",
        type=whole_number(0),
        default=None,
        metavar="N",
        help="pivotal tuning steps of each inversion (default: the app's)",
    )
    add_seed_option(p, "the faces measured")
    add_device_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from nfe_core.cli.common import CliError
    from training.report import ReportOptions, make_report

    try:
        options = ReportOptions(
            faces=args.faces,
            frechet_count=args.frechet_count,
            inversion_faces=args.inversion_faces,
            inversion_steps=args.inversion_steps,
            tune_steps=args.tune_steps,
            seed=args.seed,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out = args.out or args.model.with_name(args.model.name + "-report")
    log = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    with progress_bar("measuring", 7, unit="stage", quiet=args.quiet) as bar:
        report = make_report(args.model, out, options, device=args.device, progress=bar, log=log)
    figures = report.figures
    print(
        f"wrote {out / 'report.md'} and the bundle's report; Frechet distance "
        f"{figures['frechet_distance']:.3f} (floor {figures['frechet_floor']:.3f}), "
        f"edit success " + ", ".join(f"{k} {v:.3f}" for k, v in figures["edit_success"].items()),
        file=sys.stderr,
    )
    return 0


_ENCODER_DESCRIPTION = """\
Train the encoder of a model bundle (the start of hybrid inversion) on the bundle's own
generator samples, whose latents are known: each step renders a batch of W+ latents (random
truncation, half of them style-mixed) and teaches the encoder to give them back. Loss: latent
MSE + pixel MSE of the re-rendered guess + a feature loss in the attribute classifier's
activation maps + a small adversarial term from the bundle's discriminator (when it has one).
With --real-batch N, each step also takes N real pictures (--data), whose latents nobody
knows: the generator must draw them back from the encoder's guess (the same terms but the
latent one), so that the encoder also learns the pictures users invert.

WORK/checkpoint.pt is written every few hundred steps and on Ctrl+C; a rerun continues from
it ('--steps' is the total). At the end the encoder goes into the bundle (its report is
cleared: run 'nfe-train report' again). The feature loss needs the annotator: the bundle's
own ('nfe-train attributes' puts it there) or one given with --classifier, which then goes
into the bundle too."""


def _add_encoder(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encoder",
        help="train a bundle's encoder for inverting pictures",
        description=_ENCODER_DESCRIPTION,
        epilog="examples:\n  nfe-train encoder --model run/bundle --steps 3000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", type=Path, required=True, metavar="BUNDLE", help="bundle folder")
    p.add_argument(
        "--steps", type=positive_int, default=3000, metavar="N", help="total steps (default: 3000)"
    )
    p.add_argument(
        "--batch", type=positive_int, default=16, metavar="B", help="faces per step (default: 16)"
    )
    p.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="folder for the checkpoint (default: BUNDLE-encoder beside the bundle)",
    )
    p.add_argument(
        "--start-from",
        type=Path,
        metavar="BUNDLE",
        help="start from this bundle's encoder instead of random weights (the same shape; "
        "e.g. the last sitting's model, whose GAN this one continues); a checkpoint in "
        "--work takes precedence",
    )
    p.add_argument(
        "--classifier",
        type=Path,
        metavar="RUN_DIR",
        help="annotator run folder ('nfe-train classifier') for the feature loss, put into "
        "the bundle too (default: the bundle's own classifier)",
    )
    p.add_argument(
        "--real-batch",
        type=int,
        default=0,
        metavar="N",
        help="also N real pictures per step (from --data), which the generator must draw back "
        "from the encoder's guess: pixel, feature and adversarial terms, no latent one "
        "(default: 0, generator samples only)",
    )
    p.add_argument(
        "--data",
        default="synthetic",
        metavar="synthetic|FOLDER",
        help="the real pictures of --real-batch: 'synthetic' for procedural faces drawn with "
        "--seed (as 'nfe-train gan' draws them), or a folder of pictures (default: synthetic)",
    )
    add_seed_option(p, "the latents, the real pictures and the initial weights")
    add_device_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_encoder)


def _encoder(args: argparse.Namespace) -> int:
    from nfe_core.cli.common import CliError
    from training.encoder import EncoderOptions, train_encoder
    from training.labels import LabelError, load_classifier_run

    try:
        options = EncoderOptions(
            steps=args.steps, batch_size=args.batch, seed=args.seed, real_batch=args.real_batch
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        classifier = load_classifier_run(args.classifier) if args.classifier else None
    except LabelError as exc:
        raise CliError(str(exc)) from None
    work = args.work or args.model.with_name(args.model.name + "-encoder")
    log = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    stop = threading.Event()
    with (
        _stop_on_signals(stop, not args.quiet),
        progress_bar("training", args.steps, unit="step", quiet=args.quiet) as bar,
    ):
        result = train_encoder(
            args.model,
            options,
            work=work,
            device=args.device,
            progress=bar,
            log=log,
            should_stop=stop.is_set,
            start_from=args.start_from,
            classifier=classifier,
            data=args.data,
        )
    print(
        f"trained the encoder to step {result.step} in {result.seconds:.0f} s; last losses "
        + ", ".join(f"{k} {v:.4f}" for k, v in result.last_losses.items())
        + f"; wrote it into {result.bundle}",
        file=sys.stderr,
    )
    return 0


_SEGMENTER_DESCRIPTION = """\
Train the segmenter of a model bundle: a small U-Net that tells which part of the face each
pixel shows (background, hair, skin, eye white, iris...), so that an edit changes only the
pixels of the regions its attribute draws (hair for hair colour and length, the eyes for eye
colour...). It learns from N procedural faces rendered at the bundle's resolution with their
exact region shares per pixel (soft targets), slightly blurred and noised to look more like
the GAN's; E epochs.

Held-out figures (on --test-count faces drawn with another seed) go to WORK/metrics.json and
into the bundle's training record: per region the IoU and accuracy on pure pixels, the soft
error, and per attribute the IoU of its area; an attribute whose area scores below 0.5, or
that --whole names, is left out of the segmenter, so its edits stay whole.

Then it measures the class palettes: on 3,000 of the bundle's generated faces
(--palette-faces) that its classifier reads surely, the colours each eye colour is drawn with
in the iris (mean and spread per channel); an eye colour target then takes its class's
colours there, as the model draws them; and the picture palettes: the colours each eye colour
and hair colour shows in the iris and the hair of 800 procedural faces (--picture-faces) drawn
at 4 times the model's size and brought down to it, which a class target turns a picture's own
irises and hair to (--palettes-only: just these, with the bundle's own segmenter). The
segmenter goes into the bundle, replacing one it had; the bundle's report is cleared (run
'nfe-train report' again). Ctrl+C cancels and leaves the bundle as it was."""


def _add_segmenter(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segmenter",
        help="train a bundle's segmenter, which keeps each edit to its attribute's regions",
        description=_SEGMENTER_DESCRIPTION,
        epilog="examples:\n  nfe-train segmenter --model run/bundle --count 8000 --epochs 4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", type=Path, required=True, metavar="BUNDLE", help="bundle folder")
    p.add_argument(
        "--work",
        type=Path,
        metavar="DIR",
        help="folder for metrics.json (default: BUNDLE-segmenter beside the bundle)",
    )
    p.add_argument(
        "--count",
        type=positive_int,
        default=8000,
        metavar="N",
        help="procedural faces to train on (default: 8000)",
    )
    p.add_argument(
        "--test-count",
        type=positive_int,
        default=500,
        metavar="N",
        help="held-out faces for the figures (default: 500)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=4,
        metavar="E",
        help="passes over the faces (default: 4)",
    )
    p.add_argument(
        "--batch", type=positive_int, default=64, metavar="B", help="faces per step (default: 64)"
    )
    p.add_argument(
        "--threads",
        type=positive_int,
        metavar="T",
        help="CPU threads for the network (default: torch's, one per core)",
    )
    p.add_argument(
        "--whole",
        nargs="+",
        default=[],
        metavar="ATTR",
        help="attributes whose edits are left whole however well their area is found",
    )
    p.add_argument(
        "--palette-faces",
        type=positive_int,
        default=3000,
        metavar="N",
        help="generated faces the class palettes are measured on (default: 3000)",
    )
    p.add_argument(
        "--picture-faces",
        type=positive_int,
        default=800,
        metavar="N",
        help="procedural faces the picture palettes are measured on (default: 800)",
    )
    p.add_argument(
        "--palettes-only",
        action="store_true",
        help="only measure the class and picture palettes with the bundle's own segmenter",
    )
    add_seed_option(p, "the faces, the data order and the initial weights")
    add_device_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_segmenter)


def _segmenter(args: argparse.Namespace) -> int:
    import torch

    from training.segmenter import SegmenterOptions, add_segmenter

    options = SegmenterOptions(
        count=args.count,
        test_count=args.test_count,
        epochs=args.epochs,
        batch_size=args.batch,
        seed=args.seed,
        whole=tuple(args.whole),
        palette_faces=args.palette_faces,
        picture_faces=args.picture_faces,
    )
    work = args.work or args.model.with_name(args.model.name + "-segmenter")
    log = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    threads = torch.get_num_threads()
    stop = threading.Event()
    try:
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        with (
            _stop_on_signals(stop, not args.quiet, "stopping after this step"),
            ExitStack() as stack,
        ):
            bar = _phase_bars(stack, args.quiet)
            result = add_segmenter(
                args.model,
                work,
                options,
                device=args.device,
                progress=bar("training", "step"),
                render_progress=bar("rendering", "face"),
                should_stop=stop.is_set,
                log=log,
                palettes_only=args.palettes_only,
            )
    finally:
        torch.set_num_threads(threads)  # 'nfe-train all' runs the next stage in this process
    if args.palettes_only:
        classes = result.metrics["palettes"]["classes"]
        print(
            f"measured the class palettes in {result.seconds:.0f} s ("
            + ("; ".join(f"{a}: {len(c)} classes" for a, c in classes.items()) or "none")
            + f"); wrote them into {result.bundle} and {work / 'metrics.json'}",
            file=sys.stderr,
        )
        return 0
    metrics = result.metrics["metrics"]
    print(
        f"trained the segmenter in {result.seconds:.0f} s; held out: pure-pixel accuracy "
        f"{metrics['pixel_accuracy']}, area IoU "
        + ", ".join(f"{k} {v}" for k, v in metrics["attribute_iou"].items())
        + f"; wrote it into {result.bundle} and {work / 'metrics.json'}",
        file=sys.stderr,
    )
    return 0


_COMPACT_DESCRIPTION = """\
Write a compact copy of a GAN run's newest checkpoint, as safetensors (no pickle): float16
tensors, and no Adam first moments when beta1 is 0 (Adam overwrites them every step). About
a third of the size, small enough to commit between sittings of a long CPU training;
continue with
'nfe-train gan ... --out NEW_RUN --start-from FILE' (same --data, --size and --seed)."""


def _add_compact(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compact",
        help="a small resume checkpoint of a GAN run, to continue it in another sitting",
        description=_COMPACT_DESCRIPTION,
        epilog=(
            "example:\n"
            "  nfe-train compact runs/default64/gan --out training/resume/default64.safetensors"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run", type=Path, metavar="RUN_DIR", help="a GAN run folder")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="file to write")
    p.set_defaults(handler=_compact)


def _compact(args: argparse.Namespace) -> int:
    from training.gan.checkpoint import compact_checkpoint
    from training.gan.run_folder import RunFolder

    source = RunFolder(args.run).latest
    written = compact_checkpoint(source, args.out)
    before, after = source.stat().st_size, written.stat().st_size
    print(
        f"wrote {written} ({after / 1e6:.1f} MB; the checkpoint was {before / 1e6:.1f} MB)",
        file=sys.stderr,
    )
    return 0


_ALL_DESCRIPTION = """\
Build a whole model from one pipeline config (TOML): train the annotator and judge
classifiers, the GAN on procedural faces (guided by the annotator with '[gan] guided = true'),
train the encoder, label samples and fit the attribute
boundaries, train the segmenter, name the bundle, write its quality report, and copy it
where it ships.

Every stage writes into RUNS and is skipped when its result is there already; an interrupted
stage resumes. Run the same command again to go on in another sitting. See
training/configs/*.toml and training/pipeline.py for the config's keys."""


def _add_all(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "all",
        help="the whole pipeline from one config: GAN, classifiers, encoder, sliders, "
        "segmenter, report",
        description=_ALL_DESCRIPTION,
        epilog=(
            "examples:\n"
            "  nfe-train all --config training/configs/default64.toml\n"
            "  nfe-train all --config training/configs/default128.toml --device cuda\n"
            "  nfe-train all --config training/configs/default64.toml --until gan"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, required=True, metavar="FILE", help="pipeline TOML")
    p.add_argument(
        "--runs", type=Path, metavar="DIR", help="work folder (default: runs/CONFIG_STEM)"
    )
    p.add_argument(
        "--until",
        metavar="STAGE",
        help="stop after this stage (annotator, judge, gan, encoder, "
        "attributes, segmenter, finish, report, publish)",
    )
    add_device_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_all)


def _all(args: argparse.Namespace) -> int:
    from training.pipeline import Pipeline, PipelineConfig

    config = PipelineConfig.load(args.config)
    runs = args.runs if args.runs is not None else Path("runs") / args.config.stem
    pipeline = Pipeline(
        config,
        runs,
        device=args.device,
        quiet=args.quiet,
        say=lambda text: print(text, file=sys.stderr, flush=True),
    )
    ran = pipeline.run(args.until)
    print(
        f"{config.name}: {'ran ' + ', '.join(ran) if ran else 'nothing left to do'}; "
        f"the bundle is {pipeline.model}",
        file=sys.stderr,
    )
    return 0


_COMMANDS = (
    _add_synth,
    _add_gan,
    _add_classifier,
    _add_attributes,
    _add_report,
    _add_encoder,
    _add_segmenter,
    _add_compact,
    _add_all,
)


def build_parser() -> Parser:
    """The ``nfe-train`` argument parser with all its subcommands."""
    return make_command_parser("nfe-train", _DESCRIPTION, _EPILOG, _COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nfe-train``; returns the exit status."""
    return run(lambda args: dispatch(build_parser(), args), argv)


if __name__ == "__main__":
    raise SystemExit(main())

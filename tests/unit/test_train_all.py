"""``nfe-train all``: one config runs every stage, skips what is done, and says what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from nfe_core.bundle import load_bundle, resave_bundle
from tests.tiny import TINY_TRAINING, save_editing_bundle, tiny_boundaries
from training.cli import main
from training.gan.config import TrainConfig, load_overrides
from training.labels import load_classifier_run
from training.pipeline import STAGES, Pipeline, PipelineConfig, PipelineError, options

TINY_PIPELINE = """\
name = "tiny pipeline"
description = "built by a test"
size = 32
seed = 3

[gan]
steps = 2
config = "gan.json"

[annotator]
epochs = 1
train_count = 96
test_count = 32

[judge]
epochs = 1
train_count = 96
test_count = 32

[attributes]
count = 300

[encoder]
steps = 2
batch = 4

[segmenter]
count = 24
test_count = 8
epochs = 1
batch = 8
palette_faces = 32

[finish]
float16 = true

[report]
faces = 8
frechet_count = 16
inversion_faces = 2
inversion_steps = 2
tune_steps = 2
out = "{report}"

[publish]
to = "{publish}"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "gan.json").write_text(json.dumps(TINY_TRAINING))
    path = tmp_path / "tiny.toml"
    text = TINY_PIPELINE.format(report=tmp_path / "report", publish=tmp_path / "shipped")
    path.write_text(text)
    return path


def test_options_turn_a_table_into_flags():
    assert options({"epochs": 3, "train_count": 9, "quiet": True, "x": False}) == [
        "--epochs",
        "3",
        "--train-count",
        "9",
        "--quiet",
    ]
    # a list gives its items after the flag; an empty one leaves the flag out
    assert options({"whole": ["blush", "glasses"], "none": []}) == ["--whole", "blush", "glasses"]


@pytest.mark.slow
def test_one_command_builds_the_model_and_a_second_run_only_says_it_is_done(
    config_file: Path, tmp_path: Path
):
    runs = tmp_path / "runs"

    def real_but_tiny(argv: list[str]) -> int:
        """Every stage for real, except that a 2-step GAN's faces are too alike to fit
        boundaries on: the tiny ones stand in (the attributes stage has its own tests)."""
        if argv[0] != "attributes":
            return main(argv)
        model = load_bundle(argv[argv.index("--model") + 1])
        resave_bundle(
            model,
            classifier=load_classifier_run(runs / "annotator"),
            judge=load_classifier_run(runs / "judge"),
            boundaries=tiny_boundaries(),
        )
        return 0

    config = PipelineConfig.load(config_file)
    messages: list[str] = []
    pipeline = Pipeline(config, runs, quiet=True, say=messages.append, command=real_but_tiny)
    assert pipeline.run() == list(STAGES)
    assert messages[0].startswith("$ nfe-train classifier --size 32")
    assert any(
        m.startswith("$ nfe-train gan --data synthetic --size 32 --steps 2") for m in messages
    )
    bundle = load_bundle(tmp_path / "shipped")
    assert bundle.name == "tiny pipeline" and bundle.description == "built by a test"
    assert bundle.discriminator is None and bundle.encoder is not None
    assert bundle.segmenter is not None and bundle.training["segmenter"]["options"]["count"] == 24
    assert bundle.training["weights"] == "float16"
    assert bundle.training["float16_render_psnr_db"] >= 40
    with safe_open(str(tmp_path / "shipped" / "generator.safetensors"), "pt") as stream:
        assert all(stream.get_tensor(k).dtype == torch.float16 for k in stream.keys())  # noqa: SIM118
    assert bundle.classifier is not None and bundle.judge is not None
    assert bundle.report is not None and (tmp_path / "report" / "report.md").is_file()
    assert json.loads((runs / "gan" / "options.json").read_text())["seed"] == 3

    def no_command(argv: list[str]) -> int:
        raise AssertionError(f"nothing should run, but {argv[0]} did")

    messages.clear()
    again = Pipeline(config, runs, say=messages.append, command=no_command)
    assert again.run() == []
    assert messages == [f"{stage}: done already" for stage in STAGES]


def test_until_stops_after_a_stage_and_a_failed_stage_stops_the_run(
    config_file: Path, tmp_path: Path
):
    calls: list[list[str]] = []

    def fake(argv: list[str]) -> int:
        calls.append(argv)
        if argv[0] == "gan":
            (tmp_path / "runs" / "gan" / "bundle").mkdir(parents=True, exist_ok=True)
        if argv[0] == "classifier":
            out = Path(argv[argv.index("--out") + 1])
            out.mkdir(parents=True)
            (out / "metrics.json").write_text("{}")
        return 0 if argv[0] in ("gan", "classifier") else 1

    pipeline = Pipeline(PipelineConfig.load(config_file), tmp_path / "runs", say=lambda _: None)
    pipeline.command = fake
    assert pipeline.run(until="gan") == ["annotator", "judge", "gan"]
    assert [c[:1] for c in calls[:2]] == [["classifier"], ["classifier"]]
    gan = calls[2]
    assert gan[:2] == ["gan", "--data"] and "--seed" in gan and gan[gan.index("--seed") + 1] == "3"
    assert str(tmp_path / "gan.json") in gan  # relative to the config file
    assert "--guide" not in gan  # the config does not ask for a guided GAN
    with pytest.raises(PipelineError, match=r"'nfe-train encoder'"):
        pipeline.run()


def test_a_guided_gan_is_guided_by_the_annotator(config_file: Path, tmp_path: Path):
    text = config_file.read_text().replace(
        'config = "gan.json"', 'config = "gan.json"\nguided = true'
    )
    config_file.write_text(text)
    calls: list[list[str]] = []
    runs = tmp_path / "runs"
    pipeline = Pipeline(PipelineConfig.load(config_file), runs, say=lambda _: None)
    pipeline.command = lambda argv: calls.append(argv) or 0
    assert pipeline.gan()
    gan = calls[-1]
    assert gan[gan.index("--guide") + 1] == str(runs / "annotator") and "--guided" not in gan
    (runs / "gan" / "checkpoints").mkdir(parents=True)
    (runs / "gan" / "checkpoints" / "latest.pt").write_bytes(b"")
    assert pipeline.gan()
    assert "--resume" in calls[-1] and "--guide" not in calls[-1]  # the checkpoint has it


def test_a_gan_bundle_older_than_its_checkpoint_is_exported_again(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A sitting stopped with Ctrl+C leaves a newer checkpoint than the bundle: the stage
    is not done until the bundle is written from it (rerunning the trainer does that)."""
    gan = tmp_path / "runs" / "gan"
    (gan / "bundle").mkdir(parents=True)
    (gan / "checkpoints").mkdir()
    (gan / "checkpoints" / "latest.pt").write_bytes(b"")
    monkeypatch.setattr("training.pipeline._gan_step", lambda folder: 7)
    calls: list[list[str]] = []
    pipeline = Pipeline(PipelineConfig.load(config_file), tmp_path / "runs", say=lambda _: None)
    pipeline.command = lambda argv: calls.append(argv) or 0

    def bundle_at(step: int) -> None:
        (gan / "bundle" / "bundle.json").write_text(json.dumps({"training": {"steps": step}}))

    bundle_at(2)  # the config's steps, but the checkpoint is at 7
    assert pipeline.gan() and "--resume" in calls[-1]
    bundle_at(7)
    calls.clear()
    assert not pipeline.gan() and not calls


def test_a_model_made_from_an_earlier_gan_step_is_made_again(config_file: Path, tmp_path: Path):
    """The GAN trained on after the later stages ran: they must not count as done."""
    runs = tmp_path / "runs"
    (runs / "gan" / "bundle").mkdir(parents=True)
    (runs / "gan" / "bundle" / "bundle.json").write_text(json.dumps({"training": {"steps": 7}}))
    runs.joinpath("model").mkdir()
    done = {"training": {"steps": 2}, "networks": {"encoder": {}}, "attributes": [1]}
    (runs / "model" / "bundle.json").write_text(json.dumps(done))
    (runs / "attributes").mkdir()
    (runs / "attributes" / "labels.npz").write_bytes(b"made for step 2")
    (runs / "segmenter").mkdir()
    (runs / "segmenter" / "metrics.json").write_text("{}")
    calls: list[list[str]] = []
    messages: list[str] = []
    pipeline = Pipeline(PipelineConfig.load(config_file), runs, say=messages.append)
    pipeline.command = lambda argv: calls.append(argv) or 0
    assert pipeline.encoder() and calls[-1][0] == "encoder"
    assert "at step 2, which has trained on to step 7" in messages[0]
    assert not (runs / "attributes").exists() and not (runs / "segmenter").exists()
    assert json.loads((runs / "model" / "bundle.json").read_text()) == {"training": {"steps": 7}}
    # made from this step, with its encoder: done, and nothing is begun again
    (runs / "model" / "bundle.json").write_text(json.dumps({**done, "training": {"steps": 7}}))
    calls.clear()
    messages.clear()
    assert not pipeline.encoder() and not calls and not messages


def test_the_encoder_may_start_from_a_bundle_named_relative_to_the_config(
    config_file: Path, tmp_path: Path
):
    text = config_file.read_text().replace("[encoder]\n", '[encoder]\nstart_from = "last"\n')
    config_file.write_text(text)
    calls: list[list[str]] = []
    pipeline = Pipeline(PipelineConfig.load(config_file), tmp_path / "runs", say=lambda _: None)
    pipeline.command = lambda argv: calls.append(argv) or 0
    (tmp_path / "runs" / "gan" / "bundle").mkdir(parents=True)
    assert pipeline.encoder()
    (argv,) = calls
    assert argv[argv.index("--start-from") + 1] == str(tmp_path / "last")
    assert argv.count("--start-from") == 1 and "--steps" in argv
    # the encoder runs before the attributes stage, so it brings the annotator itself
    assert argv[argv.index("--classifier") + 1] == str(tmp_path / "runs" / "annotator")


def test_the_segmenter_stage_trains_once_and_then_is_done(config_file: Path, tmp_path: Path):
    runs = tmp_path / "runs"
    (runs / "gan" / "bundle").mkdir(parents=True)
    made = {"training": {"steps": 7}, "networks": {"generator": {}}}
    (runs / "gan" / "bundle" / "bundle.json").write_text(json.dumps(made))
    calls: list[list[str]] = []
    pipeline = Pipeline(PipelineConfig.load(config_file), runs, say=lambda _: None)
    pipeline.command = lambda argv: calls.append(argv) or 0
    assert pipeline.segmenter()
    (argv,) = calls
    assert argv[:3] == ["segmenter", "--model", str(runs / "model")]
    assert argv[argv.index("--work") + 1] == str(runs / "segmenter")
    assert argv[argv.index("--seed") + 1] == "3"  # the config's seed
    assert argv[argv.index("--count") + 1] == "24" and "--test-count" in argv
    made["networks"]["segmenter"] = {}
    (runs / "model" / "bundle.json").write_text(json.dumps(made))
    assert not pipeline.segmenter() and len(calls) == 1
    assert STAGES.index("attributes") < STAGES.index("segmenter") < STAGES.index("finish")


def test_finish_stores_weights_that_are_float16_already_as_float16(
    config_file: Path, tmp_path: Path
):
    """A GAN resumed from a float16 checkpoint and not trained further renders exactly as
    its float16 copy: that is stored as float16, not refused as an infinite PSNR."""
    model = tmp_path / "runs" / "model"
    model.parent.mkdir()
    save_editing_bundle(model)
    resave_bundle(load_bundle(model), float16=True)  # weights rounded to float16 on disk
    messages: list[str] = []
    pipeline = Pipeline(PipelineConfig.load(config_file), tmp_path / "runs", say=messages.append)
    assert pipeline.finish()
    assert any("the same as float32 ones" in m and "storing float16" in m for m in messages)
    meta = json.loads((model / "bundle.json").read_text(encoding="utf-8"))
    assert meta["training"]["weights"] == "float16"
    assert meta["training"]["float16_render_psnr_db"] is None
    assert load_bundle(model).name == "tiny pipeline"
    assert not pipeline.finish()  # done


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("size = 32\n[gan]\nsteps = 1\n", "'name' is missing"),
        ('name = "x"\nsize = "big"\n[gan]\nsteps = 1\n', "'size' must be a int"),
        ('name = "x"\nsize = 32\n', r"\[gan\] needs 'steps'"),
        ('name = "x"\nsize = 32\ncolour = 1\n[gan]\nsteps = 1\n', "unknown setting colour"),
        ("name = ", "not a readable TOML file"),
    ],
)
def test_bad_configs_are_refused_in_words(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PipelineError, match=message):
        PipelineConfig.load(path)


def test_the_shipped_configs_load():
    for name in ("interim32", "default64", "default128"):
        config = PipelineConfig.load(Path("training/configs") / f"{name}.toml")
        gan_config = config.relative(config.sections["gan"]["config"])
        TrainConfig.for_size(config.size, load_overrides(gan_config))  # valid settings


def test_the_command_line_runs_a_config_and_reports_a_failed_stage(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    runs = tmp_path / "runs"
    status = main(["all", "--config", str(config_file), "--runs", str(runs), "--until", "gan"])
    assert status == 0 and "ran annotator, judge, gan" in capsys.readouterr().err
    assert (runs / "gan" / "bundle" / "bundle.json").is_file()
    assert main(["all", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err

"""The model bundle: save, load, check; every defect is a BundleError naming its file."""

from __future__ import annotations

import copy
import json
import math
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch
import torch
from safetensors import safe_open

from nfe_core import bundle as bundle_module
from nfe_core.bundle import (
    FORMAT_VERSION,
    META_FILE,
    BundleError,
    check_bundle,
    default_bundle_path,
    load_bundle,
    resave_bundle,
    save_bundle,
)
from nfe_core.editing import Boundary
from nfe_core.models import Discriminator, DiscriminatorConfig, Generator
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from tests.tiny import TINY_DISCRIMINATOR, TINY_GENERATOR, tiny_generator

TINY = TINY_GENERATOR
TINY_D = TINY_DISCRIMINATOR
G_FILE = "generator.safetensors"
D_FILE = "discriminator.safetensors"


@pytest.fixture(scope="module")
def source_generator() -> Generator:
    return tiny_generator()


@pytest.fixture
def generator(source_generator: Generator) -> Generator:
    return copy.deepcopy(source_generator)


@pytest.fixture
def discriminator() -> Discriminator:
    torch.manual_seed(1)
    return Discriminator(TINY_D).eval()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, source_generator: Generator) -> Path:
    return save_bundle(
        tmp_path_factory.mktemp("template") / "model",
        source_generator,
        name="tiny",
        description="A tiny test model",
        training={"data": "synthetic", "steps": 3, "seed": 0},
    )


@pytest.fixture
def saved(tmp_path: Path, template: Path) -> Path:
    """A fresh copy of a saved bundle, free to damage."""
    return Path(shutil.copytree(template, tmp_path / "model"))


def render(g: Generator) -> torch.Tensor:
    z = torch.randn(3, TINY.z_dim, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        return g(z, psi=0.7, noise_mode="const")


def read_meta(root: Path) -> dict:
    return json.loads((root / META_FILE).read_text(encoding="utf-8"))


def write_meta(root: Path, meta: object) -> None:
    (root / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def tensors_of(path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors, copied out of the memory map (so the file may be rewritten)."""
    return {k: v.clone() for k, v in safetensors.torch.load_file(str(path)).items()}


# --------------------------------------------------------------------------------------------
# Round trip


def test_round_trip_renders_identically(saved: Path, generator: Generator) -> None:
    loaded = load_bundle(saved, "cpu")
    assert torch.equal(render(loaded.generator), render(generator))
    assert torch.equal(loaded.generator.w_avg, generator.w_avg)
    assert loaded.generator.config == TINY
    assert loaded.device == torch.device("cpu")
    assert loaded.discriminator is None
    assert set(loaded.networks) == {"generator"}


def test_loaded_networks_are_frozen_in_eval_mode(saved: Path) -> None:
    loaded = load_bundle(saved)
    assert not loaded.generator.training
    assert all(not p.requires_grad for p in loaded.generator.parameters())
    assert all(p.device.type == "cpu" for p in loaded.generator.state_dict().values())


def test_properties_read_the_meta(saved: Path) -> None:
    loaded = load_bundle(saved)
    assert loaded.root == saved
    assert loaded.name == "tiny"
    assert loaded.description == "A tiny test model"
    assert loaded.resolution == 32
    assert loaded.training == {"data": "synthetic", "steps": 3, "seed": 0}
    assert loaded.attributes == []
    assert loaded.report is None


def test_discriminator_round_trip(
    tmp_path: Path, generator: Generator, discriminator: Discriminator
) -> None:
    root = save_bundle(tmp_path / "gd", generator, name="gd", discriminator=discriminator)
    assert sorted(p.name for p in root.iterdir()) == sorted([META_FILE, G_FILE, D_FILE])
    loaded = load_bundle(root)
    assert loaded.discriminator is not None
    assert set(loaded.networks) == {"generator", "discriminator"}
    img = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(loaded.discriminator(img), discriminator(img))


def test_load_picks_the_best_device_when_asked(saved: Path) -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert load_bundle(saved, None).device.type == expected


def test_load_to_a_missing_device_is_a_value_error(saved: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA was asked for but is not available"):
        load_bundle(saved, "cuda")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA here"),
        ),
        pytest.param(
            "mps",
            marks=pytest.mark.skipif(not torch.backends.mps.is_available(), reason="no MPS here"),
        ),
    ],
)
def test_load_onto_an_accelerator(saved: Path, generator: Generator, name: str) -> None:
    loaded = load_bundle(saved, name)
    assert loaded.device.type == name
    assert all(t.device.type == name for t in loaded.generator.state_dict().values())
    z = torch.randn(3, TINY.z_dim, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        image = loaded.generator(z.to(loaded.device), psi=0.7, noise_mode="const").cpu()
    torch.testing.assert_close(image, render(generator), atol=1e-3, rtol=1e-3)


def test_check_bundle_returns_the_meta(saved: Path) -> None:
    meta = check_bundle(saved)
    assert meta == read_meta(saved)
    assert meta["format"] == "nfe-bundle"
    assert meta["format_version"] == FORMAT_VERSION == 1
    assert meta["name"] == "tiny"
    assert (meta["resolution"], meta["z_dim"], meta["w_dim"], meta["mapping_layers"]) == (
        32,
        32,
        32,
        2,
    )
    assert meta["networks"] == {"generator": {"config": TINY.to_dict(), "file": G_FILE}}
    assert meta["attributes"] == [] and meta["report"] is None
    assert meta["created"].endswith("+00:00")


def test_bundle_json_is_readable(saved: Path) -> None:
    text = (saved / META_FILE).read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert '\n  "name": "tiny",\n' in text  # indented
    assert '"channels": [32, 32, 16, 8]' in text  # number lists on one line


def test_tensor_files_hold_exactly_the_state_dict(saved: Path, generator: Generator) -> None:
    stored = tensors_of(saved / G_FILE)
    expected = generator.state_dict()
    assert stored.keys() == expected.keys()
    for name, tensor in expected.items():
        assert torch.equal(stored[name], tensor), name
    with safe_open(str(saved / G_FILE), framework="pt") as f:
        assert f.metadata() == {
            "format": "nfe-bundle",
            "format_version": "1",
            "network": "generator",
        }


def test_notes_and_desktop_files_are_allowed(saved: Path) -> None:
    (saved / "README.md").write_text("# tiny\n")
    (saved / "LICENSE").write_text("MIT\n")
    (saved / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    assert check_bundle(saved)["name"] == "tiny"


def test_default_bundle_path_is_in_resources() -> None:
    root = Path(__file__).resolve().parents[2]
    assert default_bundle_path() == root / "resources" / "models" / "default"


# --------------------------------------------------------------------------------------------
# Saving: atomic, never over something that is not a bundle


def test_save_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path, generator: Generator) -> None:
    target = tmp_path / "photos"
    target.mkdir()
    (target / "cat.jpg").write_bytes(b"jpeg")
    for overwrite in (False, True):
        with pytest.raises(BundleError, match="not a model bundle") as info:
            save_bundle(target, generator, name="x", overwrite=overwrite)
        assert info.value.path == target
    assert [p.name for p in target.iterdir()] == ["cat.jpg"]


def test_save_refuses_a_file(tmp_path: Path, generator: Generator) -> None:
    target = tmp_path / "model"
    target.write_text("x")
    with pytest.raises(BundleError, match="a file with this name"):
        save_bundle(target, generator, name="x", overwrite=True)


def test_save_replaces_a_bundle_only_with_overwrite(saved: Path, generator: Generator) -> None:
    with pytest.raises(BundleError, match="already exists"):
        save_bundle(saved, generator, name="second")
    assert check_bundle(saved)["name"] == "tiny"
    save_bundle(saved, generator, name="second", overwrite=True)
    assert check_bundle(saved)["name"] == "second"
    assert [p.name for p in saved.parent.iterdir()] == ["model"]  # no temp folders left


def test_save_into_an_empty_folder(tmp_path: Path, generator: Generator) -> None:
    (tmp_path / "empty").mkdir()
    save_bundle(tmp_path / "empty", generator, name="x")
    assert check_bundle(tmp_path / "empty")["name"] == "x"


def test_failed_save_leaves_nothing_behind(
    saved: Path, generator: Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle_module, "save_file", fail)
    with pytest.raises(BundleError, match="the disk is full"):
        save_bundle(saved.parent / "new", generator, name="new")
    with pytest.raises(BundleError, match="the disk is full"):
        save_bundle(saved, generator, name="replaced", overwrite=True)
    assert [p.name for p in saved.parent.iterdir()] == ["model"]
    assert check_bundle(saved)["name"] == "tiny"


def test_interrupted_save_leaves_nothing_behind(
    tmp_path: Path, generator: Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle_module, "save_file", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_bundle(tmp_path / "model", generator, name="x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"name": ""}, "name: expected a non-empty string"),
        ({"description": 3}, "description: expected a string"),
        ({"training": {"when": object()}}, "training: expected values JSON can hold"),
        ({"report": {"fid": float("nan")}}, "report: expected values JSON can hold"),
        ({"attributes": ["hair"]}, "attributes: expected a list of dicts"),
    ],
)
def test_save_refuses_bad_arguments(
    tmp_path: Path, generator: Generator, change: dict, match: str
) -> None:
    kwargs: dict = {"name": "x", **change}
    with pytest.raises(ValueError, match=match):
        save_bundle(tmp_path / "model", generator, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_nan_weights(tmp_path: Path, generator: Generator) -> None:
    with torch.no_grad():
        generator.conv1.conv.weight[0, 0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"'conv1\.conv\.weight' has NaN"):
        save_bundle(tmp_path / "model", generator, name="x")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_wrong_networks(tmp_path: Path, generator: Generator) -> None:
    with pytest.raises(ValueError, match="expected a Generator"):
        save_bundle(tmp_path / "m", Discriminator(TINY_D), name="x")  # type: ignore[arg-type]
    other = Discriminator(DiscriminatorConfig(resolution=64, channels=(16, 16, 16, 16, 16)))
    with pytest.raises(ValueError, match="expected resolution 32"):
        save_bundle(tmp_path / "m", generator, name="x", discriminator=other)


# --------------------------------------------------------------------------------------------
# Every defect is a BundleError naming its file


class Payload:
    """Unpickling this creates ``marker``: proof that a loader executed the pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def _edit_meta(**changes: object) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        meta = read_meta(root)
        meta.update(changes)
        write_meta(root, meta)

    return edit


def _drop_meta_key(key: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        meta = read_meta(root)
        del meta[key]
        write_meta(root, meta)

    return edit


def _edit_config(**changes: object) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        meta = read_meta(root)
        meta["networks"]["generator"]["config"].update(changes)
        write_meta(root, meta)

    return edit


def _edit_tensors(edit: Callable[[dict[str, torch.Tensor]], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        tensors = tensors_of(root / G_FILE)
        edit(tensors)
        safetensors.torch.save_file(tensors, str(root / G_FILE))

    return apply


def _set(name: str, value: torch.Tensor) -> Callable[[dict[str, torch.Tensor]], None]:
    return lambda tensors: tensors.__setitem__(name, value)


def _poison(value: float) -> Callable[[dict[str, torch.Tensor]], None]:
    def edit(tensors: dict[str, torch.Tensor]) -> None:
        tensors["to_rgb1.bias"][0, 1, 0, 0] = value

    return edit


def _truncate(root: Path) -> None:
    data = (root / G_FILE).read_bytes()
    (root / G_FILE).write_bytes(data[: len(data) // 2])


def _torch_save(root: Path) -> None:
    torch.save(tensors_of(root / G_FILE), root / G_FILE)


def _move(name: str, new: str) -> Callable[[Path], None]:
    return lambda root: (root / name).rename(root / new)


DEFECTS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (how to break a saved bundle, the file the error names, words of the reason)
    "no bundle.json": (lambda r: (r / META_FILE).unlink(), META_FILE, "missing"),
    "bundle.json is a folder": (
        lambda r: ((r / META_FILE).unlink(), (r / META_FILE).mkdir()),
        META_FILE,
        "found a folder",
    ),
    "no generator file": (lambda r: (r / G_FILE).unlink(), G_FILE, "the file is missing"),
    "generator file is a folder": (
        lambda r: ((r / G_FILE).unlink(), (r / G_FILE).mkdir()),
        G_FILE,
        "found a folder",
    ),
    "newer format version": (_edit_meta(format_version=2), META_FILE, "version 2"),
    "older format version": (_edit_meta(format_version=0), META_FILE, "unknown format version 0"),
    "format version as text": (_edit_meta(format_version="1"), META_FILE, "format_version"),
    "not an nfe bundle": (_edit_meta(format="other"), META_FILE, "not an NFE model bundle"),
    "malformed JSON": (
        lambda r: (r / META_FILE).write_text('{"format": "nfe-bundle",'),
        META_FILE,
        "not valid JSON",
    ),
    "NaN in JSON": (
        lambda r: (r / META_FILE).write_text((r / META_FILE).read_text().replace("null", "NaN")),
        META_FILE,
        "not valid JSON",
    ),
    "not UTF-8": (lambda r: (r / META_FILE).write_bytes(b"\xff\xfe{}"), META_FILE, "UTF-8"),
    "JSON list": (lambda r: write_meta(r, [1, 2]), META_FILE, "expected a JSON object"),
    "missing key": (_drop_meta_key("networks"), META_FILE, "missing key: 'networks'"),
    "unknown key": (_edit_meta(colour="blue"), META_FILE, "unknown key: 'colour'"),
    "wrong type": (_edit_meta(resolution="32"), META_FILE, "'resolution' should be a whole"),
    "bool for int": (_edit_meta(z_dim=True), META_FILE, "'z_dim' should be a whole number"),
    "empty name": (_edit_meta(name=" "), META_FILE, "'name' is empty"),
    "report not an object": (_edit_meta(report=[0.5]), META_FILE, "'report' should be"),
    "attribute not an object": (_edit_meta(attributes=["hair"]), META_FILE, "attributes[0]"),
    "no generator network": (_edit_meta(networks={}), META_FILE, "'networks' has no generator"),
    "unknown network": (
        lambda r: _edit_meta(networks={**read_meta(r)["networks"], "upscaler": {}})(r),
        META_FILE,
        "unknown network 'upscaler'",
    ),
    "file outside the bundle": (
        lambda r: _edit_meta(
            networks={"generator": {"config": TINY.to_dict(), "file": "../generator.safetensors"}}
        )(r),
        META_FILE,
        "'networks.generator.file'",
    ),
    "config cannot be read": (_edit_config(channels=[32, 32]), META_FILE, "not a valid generator"),
    "config with unknown key": (_edit_config(depth=3), META_FILE, "networks.generator.config"),
    "meta disagrees with config": (_edit_meta(resolution=64), META_FILE, "'resolution' is 64"),
    "pickle instead of safetensors": (
        lambda r: (r / G_FILE).write_bytes(pickle.dumps(Payload(r.parent / "EXECUTED"))),
        G_FILE,
        "this is a Python pickle",
    ),
    "torch.save instead of safetensors": (_torch_save, G_FILE, "zip archive"),
    "truncated safetensors": (_truncate, G_FILE, "not a valid safetensors file"),
    "empty safetensors": (lambda r: (r / G_FILE).write_bytes(b""), G_FILE, "not a valid"),
    "wrong shape": (
        _edit_tensors(_set("to_rgb1.bias", torch.zeros(1, 4, 1, 1))),
        G_FILE,
        "'to_rgb1.bias' has shape 1x4x1x1 but the generator's config needs 1x3x1x1",
    ),
    "wrong type of values": (
        _edit_tensors(_set("to_rgb1.bias", torch.zeros(1, 3, 1, 1, dtype=torch.int64))),
        G_FILE,
        "'to_rgb1.bias' holds int64 values",
    ),
    "NaN weights": (_edit_tensors(_poison(float("nan"))), G_FILE, "NaN or infinite values (1 of"),
    "infinite weights": (_edit_tensors(_poison(float("inf"))), G_FILE, "NaN or infinite"),
    "missing tensor": (
        _edit_tensors(lambda t: t.pop("w_avg")),
        G_FILE,
        "missing tensor of the generator: 'w_avg'",
    ),
    "unknown tensor": (
        _edit_tensors(_set("backdoor", torch.zeros(2))),
        G_FILE,
        "unexpected tensor for the generator: 'backdoor'",
    ),
    "stray pickle": (
        lambda r: (r / "evil.pkl").write_bytes(pickle.dumps(Payload(r.parent / "EXECUTED"))),
        "evil.pkl",
        "NFE never loads pickles",
    ),
    "stray checkpoint": (lambda r: shutil.copy(r / G_FILE, r / "g.pt"), "g.pt", "unexpected .pt"),
    "stray safetensors": (
        lambda r: shutil.copy(r / G_FILE, r / "extra.safetensors"),
        "extra.safetensors",
        "does not name",
    ),
    "stray script": (lambda r: (r / "run.py").write_text("print(1)"), "run.py", "unexpected file"),
    "stray folder": (lambda r: (r / "more").mkdir(), "more", "unexpected folder"),
    "renamed generator": (_move(G_FILE, "gen.safetensors"), "gen.safetensors", "does not name"),
}


@pytest.mark.parametrize("opener", [check_bundle, load_bundle], ids=["check", "load"])
@pytest.mark.parametrize("defect", list(DEFECTS))
def test_every_defect_names_its_file(saved: Path, opener: Callable, defect: str) -> None:
    damage, file, words = DEFECTS[defect]
    damage(saved)
    with pytest.raises(BundleError) as info:
        opener(saved)
    error = info.value
    assert error.path == saved / file
    assert words in error.reason
    assert str(error) == f"{saved / file}: {error.reason}"
    assert "\n" not in str(error)
    assert not (saved.parent / "EXECUTED").exists()


def test_a_pickle_is_never_executed(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = saved.parent / "EXECUTED"
    payload = pickle.dumps(Payload(marker))
    pickle.loads(payload)  # the payload is live: unpickling it does create the marker
    assert marker.exists()
    marker.unlink()

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bundle loader unpickled something")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    (saved / G_FILE).write_bytes(payload)
    (saved / "evil.pkl").write_bytes(payload)
    for opener in (check_bundle, load_bundle):
        with pytest.raises(BundleError):
            opener(saved)
    (saved / "evil.pkl").unlink()
    with pytest.raises(BundleError, match="Python pickle"):
        load_bundle(saved)
    assert not marker.exists()


def test_missing_bundle_folder(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such folder") as info:
        check_bundle(tmp_path / "nowhere")
    assert info.value.path == tmp_path / "nowhere"


def test_bundle_path_that_is_a_file(saved: Path) -> None:
    with pytest.raises(BundleError, match="this is a file; expected a model bundle folder") as info:
        load_bundle(saved / G_FILE)
    assert info.value.path == saved / G_FILE


def test_discriminator_defects_name_its_file(
    tmp_path: Path, generator: Generator, discriminator: Discriminator
) -> None:
    root = save_bundle(tmp_path / "gd", generator, name="gd", discriminator=discriminator)
    tensors = tensors_of(root / D_FILE)
    tensors["final_linear.1.bias"] = torch.full_like(tensors["final_linear.1.bias"], float("nan"))
    safetensors.torch.save_file(tensors, str(root / D_FILE))
    with pytest.raises(BundleError, match="NaN") as info:
        check_bundle(root)
    assert info.value.path == root / D_FILE


def test_discriminator_for_another_resolution(
    tmp_path: Path, generator: Generator, discriminator: Discriminator
) -> None:
    root = save_bundle(tmp_path / "gd", generator, name="gd", discriminator=discriminator)
    meta = read_meta(root)
    meta["networks"]["discriminator"]["config"] = DiscriminatorConfig(
        resolution=64, channels=(16, 16, 16, 16, 16)
    ).to_dict()
    write_meta(root, meta)
    with pytest.raises(BundleError, match="the discriminator is for 64 px") as info:
        check_bundle(root)
    assert info.value.path == root / META_FILE


def test_a_header_length_that_starts_like_a_pickle_is_still_safetensors(saved: Path) -> None:
    # The first byte of a safetensors file is the low byte of its header's length, which
    # may well be 0x80, the first byte of a pickle: the sniffing must not mistake it.
    tensors = tensors_of(saved / G_FILE)
    for pad in range(256):
        safetensors.torch.save_file(tensors, str(saved / G_FILE), metadata={"pad": "x" * pad})
        if (saved / G_FILE).read_bytes()[:1] == b"\x80":
            break
    else:
        pytest.fail("no padding gave a header length with low byte 0x80")
    assert check_bundle(saved)["name"] == "tiny"


def test_a_failed_swap_puts_the_old_bundle_back(
    saved: Path, generator: Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    rename = Path.rename

    def flaky(self: Path, target: Path) -> Path:
        if ".partial-" in self.name:
            raise PermissionError(13, "Permission denied")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", flaky)
    with pytest.raises(BundleError, match="permission denied") as info:
        save_bundle(saved, generator, name="replaced", overwrite=True)
    assert info.value.path == saved
    monkeypatch.undo()
    assert check_bundle(saved)["name"] == "tiny"
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


# --- classifiers and attribute boundaries --------------------------------------------------


def _classifier(resolution: int, seed: int) -> AttributeClassifier:
    torch.manual_seed(seed)
    config = ClassifierConfig(
        resolution=resolution, attributes=(("glasses", ("false", "true")),), width=4, depth=2
    )
    return AttributeClassifier(config).eval()


def _boundaries() -> list[Boundary]:
    g = torch.Generator().manual_seed(5)
    return [
        Boundary(
            name, "hair", "class", name.split(":")[1], None,
            torch.nn.functional.normalize(torch.randn(TINY.w_dim, generator=g), dim=0),
            0.25, 1.5, 1.2,
        )
        for name in ("hair:red", "hair:blue")
    ]  # fmt: skip


@pytest.fixture
def with_attributes(tmp_path: Path, generator: Generator) -> Path:
    return save_bundle(
        tmp_path / "model",
        generator,
        name="sliders",
        classifier=_classifier(16, 0),  # classifiers may read at their own resolution
        judge=_classifier(32, 1),
        boundaries=_boundaries(),
        attributes=[{"name": "hair:red", "svm_test_accuracy": 0.96}],
    )


def test_classifiers_and_boundaries_round_trip(with_attributes: Path) -> None:
    bundle = load_bundle(with_attributes)
    assert bundle.classifier is not None and bundle.judge is not None
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    expected = _classifier(16, 0).predict(images)["glasses"]
    assert torch.allclose(bundle.classifier.predict(images)["glasses"], expected, atol=1e-6)
    assert set(bundle.networks) == {"generator", "classifier", "judge"}
    saved = _boundaries()
    assert [b.name for b in bundle.boundaries.all] == ["hair:red", "hair:blue"]
    for b, want in zip(bundle.boundaries.all, saved, strict=True):
        assert torch.equal(b.normal, want.normal)
        assert (b.intercept, b.spread, b.target_distance) == (0.25, 1.5, 1.2)
    red, blue = bundle.attributes
    assert red["svm_test_accuracy"] == 0.96 and "svm_test_accuracy" not in blue
    assert red["kind"] == "class" and red["latent_space"] == "w"
    assert (with_attributes / "boundaries.safetensors").is_file()


def test_records_without_boundaries_are_refused(tmp_path: Path, generator: Generator) -> None:
    with pytest.raises(ValueError, match="not one of the boundaries"):
        save_bundle(tmp_path / "m", generator, name="x", attributes=[{"name": "hair:red"}])


def _drop_record_key(key: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        meta = read_meta(root)
        del meta["attributes"][0][key]
        write_meta(root, meta)

    return edit


def _set_record_layers(layers: list[int]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        meta = read_meta(root)
        for record in meta["attributes"]:
            record["layers"] = layers
        write_meta(root, meta)

    return edit


def _boundary_tensors(edit: Callable[[dict[str, torch.Tensor]], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / "boundaries.safetensors"
        tensors = dict(safetensors.torch.load_file(str(path)))
        edit(tensors)
        safetensors.torch.save_file(tensors, str(path))

    return apply


@pytest.mark.parametrize(
    ("defect", "file", "message"),
    [
        (lambda root: (root / "boundaries.safetensors").unlink(), "boundaries.safetensors",
         "the file is missing"),
        (_drop_record_key("spread"), META_FILE, "attributes\\[0\\] has no 'spread'"),
        (_boundary_tensors(lambda t: t.update({"hair:red": torch.ones(3)})),
         "boundaries.safetensors", "has shape 3"),
        (_boundary_tensors(lambda t: t.update({"hair:red": torch.ones(TINY.w_dim)})),
         "boundaries.safetensors", "should have length 1"),
        (_boundary_tensors(lambda t: t.pop("hair:blue")), "boundaries.safetensors",
         "missing tensor"),
        (_set_record_layers([0, 99]), META_FILE, "names W\\+ rows 0:99, but the generator has"),
        (_set_record_layers([2, 1]), META_FILE, "start < stop"),
    ],
)  # fmt: skip
def test_boundary_defects_name_their_file(
    with_attributes: Path, defect: Callable[[Path], None], file: str, message: str
) -> None:
    defect(with_attributes)
    with pytest.raises(BundleError, match=message) as caught:
        load_bundle(with_attributes)
    assert caught.value.path.name == file


def test_a_new_report_or_name_rewrites_only_bundle_json(tmp_path: Path):
    root = save_bundle(tmp_path / "model", tiny_generator(), name="tiny", float16=True)
    weights = {p.name: p.read_bytes() for p in root.iterdir() if p.name != META_FILE}
    bundle = load_bundle(root)
    resave_bundle(bundle, report={"frechet_distance": 1.5}, name=" renamed ")
    assert {p.name: p.read_bytes() for p in root.iterdir() if p.name != META_FILE} == weights
    again = load_bundle(root)
    assert again.report == {"frechet_distance": 1.5} and again.name == "renamed"
    assert again.training["weights"] == "float16"
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # no temp left
    with pytest.raises(ValueError, match="JSON"):
        resave_bundle(again, report={"x": math.nan})
    with pytest.raises(ValueError, match="name"):
        resave_bundle(again, name="  ")
    assert load_bundle(root).report == {"frechet_distance": 1.5}  # a refused change: as it was
    # other parts, another folder or other weights: the whole bundle is written
    moved = resave_bundle(again, tmp_path / "copy", report=None)
    assert load_bundle(moved).report is None and load_bundle(root).report is not None


def test_float16_weights_halve_the_files_and_load_back_into_float32_networks(tmp_path: Path):
    generator = tiny_generator()
    full = save_bundle(tmp_path / "full", generator, name="tiny")
    loaded = load_bundle(full)
    half = resave_bundle(loaded, tmp_path / "half", float16=True)
    size = (half / "generator.safetensors").stat().st_size
    assert size < 0.6 * (full / "generator.safetensors").stat().st_size
    with safe_open(str(half / "generator.safetensors"), "pt") as stream:
        assert all(stream.get_tensor(k).dtype == torch.float16 for k in stream.keys())  # noqa: SIM118
    again = load_bundle(half)
    assert again.training["weights"] == "float16"
    resave_bundle(again, name="renamed")  # a later resave keeps float16
    assert (half / "generator.safetensors").stat().st_size == size
    weights = dict(again.generator.named_parameters())
    for name, value in generator.named_parameters():
        assert weights[name].dtype == torch.float32
        assert torch.allclose(weights[name], value, rtol=1e-3, atol=1e-4)
    huge = tiny_generator()
    with torch.no_grad():
        next(huge.parameters()).fill_(1e6)
    with pytest.raises(ValueError, match="beyond float16's range"):
        save_bundle(tmp_path / "huge", huge, name="tiny", float16=True)

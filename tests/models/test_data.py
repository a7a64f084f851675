"""Tests of models.data: the embedded digits, MNIST IDX files, and the 2-D point clouds.

IDX files are written here byte by byte with ``struct`` (an independent route to the format),
plain and gzipped, and broken on purpose: missing, truncated, corrupt gzip, wrong magic.

Statistical checks: false-failure budget 1e-6 for this file, split evenly (Bonferroni) over the
``N_ASSERTIONS`` statistical assertions below; each states its power.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from models import data as data_module
from models.data import (
    DataFileError,
    GaussianMixture,
    default_mixture,
    load_digits_binarized,
    load_mnist,
    read_idx,
    ring_mixture,
    text_point_cloud,
    text_polygons,
)
from numerics.estimates import Estimate
from numerics.tolerance import check_close, detectable_error
from tests.strategies import seeds

FAILURE_BUDGET = 1e-6
N_ASSERTIONS = 6  # mixture: frequencies, means, second moments, the twin's two passes; glyph areas
ALPHA = FAILURE_BUDGET / N_ASSERTIONS


# --------------------------------------------------------------------------------------------
# the embedded digits


def test_digits_are_binary_64_pixel_images_split_1500_to_297():
    digits = load_digits_binarized()
    assert digits.train_x.shape == (1500, 64) and digits.test_x.shape == (297, 64)
    assert digits.shape == (8, 8) and digits.n_pixels == 64
    for x in (digits.train_x, digits.test_x):
        assert x.dtype == np.float32 and set(np.unique(x)) == {0.0, 1.0}
    assert set(np.unique(digits.train_y)) == set(range(10))
    assert set(np.unique(digits.test_y)) == set(range(10))


def test_digits_binarize_at_half_of_full_scale_including_the_midpoint():
    from sklearn.datasets import load_digits

    raw = load_digits().data  # grey levels 0..16
    order = np.random.default_rng(data_module.SPLIT_SEED).permutation(len(raw))
    train_raw = raw[order[data_module.N_TEST_DIGITS:]]
    digits = load_digits_binarized()
    np.testing.assert_array_equal(digits.train_x, (train_raw >= 8).astype(np.float32))
    # the midpoint 8/16 = 0.5 occurs and maps to 1: a ">" threshold would be caught here
    midpoint = train_raw == 8
    assert midpoint.sum() > 100 and np.all(digits.train_x[midpoint] == 1.0)


def test_digits_split_is_a_fixed_partition_of_all_1797_images():
    from sklearn.datasets import load_digits

    raw = load_digits()
    fresh = load_digits_binarized.__wrapped__()  # bypass the cache: a second, independent load
    cached = load_digits_binarized()
    np.testing.assert_array_equal(fresh.train_x, cached.train_x)
    np.testing.assert_array_equal(fresh.test_y, cached.test_y)
    # every image lands in exactly one side: the multiset of (image, label) rows is preserved
    binarized = np.concatenate([(raw.data >= 8).astype(np.float32), raw.target[:, None]], axis=1)
    split = np.concatenate([
        np.concatenate([cached.train_x, cached.train_y[:, None]], axis=1),
        np.concatenate([cached.test_x, cached.test_y[:, None]], axis=1)])
    key = lambda rows: sorted(map(bytes, rows.astype(np.uint8)))  # noqa: E731
    assert key(split) == key(binarized)


def test_digits_arrays_are_read_only_so_the_cache_cannot_be_corrupted():
    digits = load_digits_binarized()
    with pytest.raises(ValueError):
        digits.train_x[0, 0] = 0.5


# --------------------------------------------------------------------------------------------
# MNIST IDX files written by the test


def _idx_bytes(array: np.ndarray, *, magic_type: int = 0x08) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, magic_type, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _write(path: Path, payload: bytes, gz: bool = False) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def _small_mnist(n: int = 12, rows: int = 4, cols: int = 5, seed: int = 7):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    images[0, 0, :3] = (127, 128, 255)  # just below, just above and at full scale
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def _write_mnist(directory: Path, images, labels, *, gz: bool = False, prefix: str = "train"):
    kind = "train" if prefix == "train" else "t10k"
    _write(directory / f"{kind}-images-idx3-ubyte", _idx_bytes(images), gz)
    _write(directory / f"{kind}-labels-idx1-ubyte", _idx_bytes(labels), gz)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_mnist_loader_keeps_the_first_images_and_rounds_pixel_over_255(tmp_path, gz):
    images, labels = _small_mnist()
    _write_mnist(tmp_path, images, labels, gz=gz)
    mnist = load_mnist(tmp_path, n_train=10)
    assert mnist.shape == (4, 5) and mnist.train_x.shape == (10, 20)
    expected = np.floor(images[:10].reshape(10, -1) / 255.0 + 0.5)  # round half up; no ties occur
    np.testing.assert_array_equal(mnist.train_x, expected.astype(np.float32))
    np.testing.assert_array_equal(mnist.train_y, labels[:10])
    assert tuple(mnist.train_x[0, :3]) == (0.0, 1.0, 1.0)  # 127 → 0, 128 → 1, 255 → 1
    assert mnist.test_x.shape == (0, 20) and mnist.test_y.shape == (0,)


def test_mnist_loader_default_keeps_the_course_first_10000(tmp_path):
    assert data_module.MNIST_N_TRAIN == 10_000
    images, labels = _small_mnist(n=3)
    _write_mnist(tmp_path, images, labels)
    assert load_mnist(tmp_path).train_x.shape == (3, 20)  # fewer than 10,000: all of them


def test_mnist_loader_reads_the_t10k_files_as_the_test_set_when_present(tmp_path):
    images, labels = _small_mnist()
    test_images, test_labels = _small_mnist(n=5, seed=8)
    _write_mnist(tmp_path, images, labels)
    _write_mnist(tmp_path, test_images, test_labels, gz=True, prefix="t10k")
    mnist = load_mnist(tmp_path)
    np.testing.assert_array_equal(mnist.test_y, test_labels)
    assert mnist.test_x.shape == (5, 20)


def test_plain_and_gzipped_idx_files_hold_the_same_array(tmp_path):
    images, _ = _small_mnist()
    plain = _write(tmp_path / "a-idx3-ubyte", _idx_bytes(images))
    zipped = _write(tmp_path / "b-idx3-ubyte", _idx_bytes(images), gz=True)
    np.testing.assert_array_equal(read_idx(plain), images)
    np.testing.assert_array_equal(read_idx(zipped), images)


def _assert_names_the_file(error: DataFileError, path: Path, *words: str) -> None:
    message = str(error)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    assert isinstance(error, ValueError)
    assert error.__cause__ is None  # a clear message, not a chained traceback from numpy/gzip


def test_a_missing_mnist_directory_is_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataFileError) as caught:
        load_mnist(missing)
    _assert_names_the_file(caught.value, missing, "does not exist")


def test_a_missing_labels_file_is_named_with_both_candidate_names(tmp_path):
    images, _ = _small_mnist()
    _write(tmp_path / "train-images-idx3-ubyte", _idx_bytes(images))
    with pytest.raises(DataFileError) as caught:
        load_mnist(tmp_path)
    _assert_names_the_file(caught.value, tmp_path / "train-labels-idx1-ubyte", "not found",
                           "train-labels-idx1-ubyte.gz")


@pytest.mark.parametrize("damage", ["random bytes", "cut in half"])
def test_a_corrupt_or_truncated_gzip_file_is_named(tmp_path, damage):
    images, labels = _small_mnist()
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(labels))
    stream = gzip.compress(_idx_bytes(images))
    broken = (np.random.default_rng(3).integers(0, 256, 200, dtype=np.uint8).tobytes()
              if damage == "random bytes" else stream[: len(stream) // 2])
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(broken)
    with pytest.raises(DataFileError) as caught:
        load_mnist(tmp_path)
    _assert_names_the_file(caught.value, path, "gzip")


@pytest.mark.parametrize(
    "payload, words",
    [
        (lambda im: im[: len(im) - 7], ("truncated", "240 values")),
        (lambda im: im[:10], ("truncated header",)),
        (lambda im: im[:2], ("too short",)),
        (lambda im: im + b"\x00\x01", ("2 unexpected trailing bytes",)),
        (lambda im: b"\x1f\x8b" + im[2:], ("wrong magic", "two zero bytes")),
        (lambda im: im[:2] + b"\x0d" + im[3:], ("wrong magic", "0x0d")),
        (lambda im: im[:3] + b"\x01" + im[4:], ("wrong magic", "expected 3")),
    ],
    ids=["payload cut", "header cut", "four bytes missing", "trailing bytes", "not idx",
         "float type", "labels magic"],
)
def test_a_damaged_images_file_is_named_with_what_is_wrong(tmp_path, payload, words):
    images, labels = _small_mnist()
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(labels))
    path = _write(tmp_path / "train-images-idx3-ubyte", payload(_idx_bytes(images)))
    with pytest.raises(DataFileError) as caught:
        load_mnist(tmp_path)
    _assert_names_the_file(caught.value, path, *words)


def test_labels_that_do_not_match_the_images_are_named(tmp_path):
    images, labels = _small_mnist()
    _write(tmp_path / "train-images-idx3-ubyte", _idx_bytes(images))
    path = _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(labels[:-1]))
    with pytest.raises(DataFileError) as caught:
        load_mnist(tmp_path)
    _assert_names_the_file(caught.value, path, "11 labels for the 12 images")
    bad = labels.copy()
    bad[3] = 11
    path.write_bytes(_idx_bytes(bad))
    with pytest.raises(DataFileError) as caught:
        load_mnist(tmp_path)
    _assert_names_the_file(caught.value, path, "label 11")


# --------------------------------------------------------------------------------------------
# Gaussian mixtures


def test_mixture_parameters_are_validated():
    means = np.zeros((2, 2))
    with pytest.raises(ValueError, match="sum to 1"):
        GaussianMixture(np.array([0.5, 0.6]), means, np.stack([np.eye(2)] * 2))
    with pytest.raises(np.linalg.LinAlgError):
        GaussianMixture(np.array([0.5, 0.5]), means, np.stack([np.eye(2), -np.eye(2)]))
    with pytest.raises(ValueError, match="shapes"):
        GaussianMixture(np.array([1.0]), means, np.stack([np.eye(2)] * 2))


@given(seed=seeds())
def test_mixture_samples_are_a_function_of_the_generator(seed):
    mixture = ring_mixture()
    a, ca = mixture.sample(50, np.random.default_rng(seed))
    b, cb = mixture.sample(50, np.random.default_rng(seed))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ca, cb)
    assert a.shape == (50, 2) and set(np.unique(ca)) <= set(range(8))


def _mixture_checks(mixture: GaussianMixture, points: np.ndarray, components: np.ndarray):
    """z-tests of the component frequencies (K entries) and, per component, of the mean (K·d
    entries) and second moments (3K entries) of the points whitened by the STATED mean and
    covariance — N(0, I) exactly when the sampler honours the parameters."""
    n = len(points)
    indicators = components[:, None] == np.arange(mixture.n_components)[None, :]
    frequencies = Estimate.from_samples(indicators.astype(np.float64))
    whitened = []
    for k in range(mixture.n_components):
        factor = np.linalg.cholesky(mixture.covariances[k])
        whitened.append(np.linalg.solve(factor, (points[components == k] - mixture.means[k]).T).T)
    means = Estimate(np.concatenate([w.mean(axis=0) for w in whitened]),
                     np.concatenate([np.full(2, 1 / np.sqrt(len(w))) for w in whitened]), n)
    moments = [Estimate.from_samples(np.stack([w[:, 0] ** 2, w[:, 1] ** 2, w[:, 0] * w[:, 1]], 1))
               for w in whitened]
    second = Estimate(np.concatenate([m.mean for m in moments]),
                      np.concatenate([m.standard_error for m in moments]), n)
    return (frequencies,
            [check_close(frequencies, mixture.weights, failure_prob=ALPHA),
             check_close(means, 0.0, failure_prob=ALPHA),
             check_close(second, np.tile([1.0, 1.0, 0.0], len(moments)), failure_prob=ALPHA)])


def test_mixture_samples_have_the_stated_weights_means_and_covariances():
    """Three z-tests (see _mixture_checks) at n = 40,000, seed 2024 (fixed)."""
    mixture = default_mixture()
    points, components = mixture.sample(40_000, np.random.default_rng(2024))
    frequencies, checks = _mixture_checks(mixture, points, components)
    for check in checks:
        check.raise_if_failed()
    # power: a weight off by this much is detected with probability 1/2
    assert np.all(detectable_error(frequencies.standard_error, ALPHA) < 0.015)


def test_mixture_checks_catch_a_sampler_that_uses_sigma_squared_for_sigma():
    """The mutant scales the noise by Σ_k instead of its Cholesky factor (σ² for σ)."""
    mixture = default_mixture()
    rng = np.random.default_rng(2024)
    components = rng.choice(mixture.n_components, size=40_000, p=mixture.weights)
    noise = rng.standard_normal((40_000, 2))
    points = mixture.means[components] + np.einsum("nij,nj->ni", mixture.covariances[components],
                                                   noise)
    _, checks = _mixture_checks(mixture, points, components)
    assert checks[0].passed and checks[1].passed  # weights and means are right...
    assert not checks[2].passed  # ...the covariance is not


# --------------------------------------------------------------------------------------------
# text rendered as points


def _glyph_areas(text: str = "CS446") -> np.ndarray:
    """Area of each character by the shoelace formula: outer contours and holes have opposite
    orientations in the font, so the signed areas of a character's contours add up to its area."""
    polygons = text_polygons(text)
    centres = np.array([p[:, 0].mean() for p in polygons])
    signed = np.array([0.5 * np.sum(p[:-1, 0] * p[1:, 1] - p[1:, 0] * p[:-1, 1]) for p in polygons])
    # characters: cluster the contours by x (the glyphs of "CS446" do not overlap in x)
    edges = _character_edges(polygons)
    which = np.searchsorted(edges, centres) - 1
    return np.abs(np.array([signed[which == c].sum() for c in range(len(edges) - 1)]))


def _character_edges(polygons: list[np.ndarray]) -> np.ndarray:
    spans = sorted((p[:, 0].min(), p[:, 0].max()) for p in polygons)
    groups = [list(spans[0])]
    for lo, hi in spans[1:]:
        if lo <= groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], hi)
        else:
            groups.append([lo, hi])
    return np.array([g[0] for g in groups] + [groups[-1][1]]) + np.r_[np.full(len(groups), -1e-9), 1e-9]


def _area_check(points: np.ndarray, failure_prob: float):
    polygons = text_polygons()
    edges = _character_edges(polygons)
    areas = _glyph_areas()
    which = np.searchsorted(edges, points[:, 0]) - 1
    indicators = which[:, None] == np.arange(len(areas))[None, :]
    return check_close(Estimate.from_samples(indicators.astype(np.float64)), areas / areas.sum(),
                       failure_prob=failure_prob)


def test_text_points_are_uniform_over_the_glyphs_holes_excluded():
    """The share of points in each character matches its area (shoelace, holes subtracted):
    z-test over the 5 characters. Power: shares off by 0.006 are detected with probability 1/2
    at n = 40,000 — filling the hole of "4" or "6" shifts a share by more (twin below)."""
    points = text_point_cloud(40_000, seed=0)
    result = _area_check(points, ALPHA)
    assert result.passed, result.message()
    assert len(_glyph_areas()) == 5


def test_text_point_check_catches_a_sampler_that_fills_the_holes(monkeypatch):
    def inside_any(points, polygons):  # the mutant: "inside some contour" (holes filled)
        from matplotlib.path import Path as MplPath

        return np.any([MplPath(p).contains_points(points) for p in polygons], axis=0)

    monkeypatch.setattr(data_module, "_inside_even_odd", inside_any)
    points = text_point_cloud(40_000, seed=0)
    assert not _area_check(points, ALPHA).passed


def test_text_points_lie_in_a_box_of_the_stated_height_and_repeat_under_a_seed():
    points = text_point_cloud(2000, seed=5, height=2.0)
    assert points.shape == (2000, 2)
    assert np.all(np.abs(points[:, 1]) <= 1.0 + 1e-12) and np.ptp(points[:, 1]) > 1.9
    np.testing.assert_array_equal(points, text_point_cloud(2000, seed=5, height=2.0))
    np.testing.assert_array_equal(points, text_point_cloud(2000, rng=np.random.default_rng(5)))
    assert not np.array_equal(points, text_point_cloud(2000, seed=6))


def test_text_points_avoid_the_hole_of_the_six():
    polygons = text_polygons()
    # the hole of "6": the smallest contour whose x-centre lies in the last character
    last = max(p[:, 0].mean() for p in polygons)
    six = [p for p in polygons if p[:, 0].mean() > last - 0.6]
    hole = min(six, key=lambda p: np.ptp(p[:, 0]) * np.ptp(p[:, 1]))
    from matplotlib.path import Path as MplPath

    points = text_point_cloud(20_000, seed=1)
    assert not np.any(MplPath(hole).contains_points(points))

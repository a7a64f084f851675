"""Data for the tiny models: binarized digit images and 2-D point clouds.

Images (Question 2, the VAE):

* :func:`load_digits_binarized` — the embedded default, scikit-learn's bundled 8×8 digits
  (1797 images, 16 grey levels, no download), binarized by ``pixel/16 ≥ 0.5`` (i.e. grey level
  ≥ 8) and split once, deterministically: a permutation drawn from
  ``numpy.random.default_rng(SPLIT_SEED)`` puts ``N_TEST_DIGITS`` = 297 images in the test set
  and the other 1500 in the training set (15 batches of 100).
* :func:`load_mnist` — MNIST from IDX files the user already has (``--mnist-dir``), with the
  course's preprocessing: the first 10,000 training images, ``round(pixel/255)``. Files may be
  gzipped (``train-images-idx3-ubyte.gz``). A missing, truncated or corrupt file raises
  :class:`DataFileError`, whose message names the file.

IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, a type byte
(0x08 = unsigned byte), a byte with the number of dimensions, one big-endian uint32 per
dimension, then the values in C order.

Point clouds (Questions 3–4, GAN and score model):

* :class:`GaussianMixture` — weights, means and covariances are returned with the samples, so
  the analytic (noised) score of the mixture can be used against a learned one;
  :func:`default_mixture` and :func:`ring_mixture` are the stock choices.
* :func:`text_point_cloud` — text rendered as points (the course's "CS446"): the glyph outlines
  of matplotlib's ``TextPath`` (DejaVu Sans Bold, shipped with matplotlib), points drawn
  uniformly inside them by rejection with an explicit generator (even–odd rule, so the holes
  of "4" and "6" stay empty).

Every random draw takes an explicit ``numpy.random.Generator`` or a seed. Nothing is loaded at
import.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "DataFileError",
    "ImageData",
    "load_digits_binarized",
    "load_mnist",
    "read_idx",
    "find_idx_file",
    "GaussianMixture",
    "default_mixture",
    "ring_mixture",
    "text_point_cloud",
    "text_polygons",
    "SPLIT_SEED",
    "N_TEST_DIGITS",
    "MNIST_N_TRAIN",
]

SPLIT_SEED = 0
N_TEST_DIGITS = 297
MNIST_N_TRAIN = 10_000
DIGITS_BINARIZE_THRESHOLD = 0.5  # pixel/16 ≥ 0.5 → 1

_IDX_UNSIGNED_BYTE = 0x08
_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class DataFileError(ValueError):
    """A data file is missing, truncated or not what it claims to be; ``path`` names it."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# --------------------------------------------------------------------------------------------
# images


@dataclass(frozen=True)
class ImageData:
    """Binary images as flat float32 rows, with labels and a fixed train/test split.

    train_x: (n_train, G) in {0, 1}    train_y: (n_train,) int64 digit labels
    test_x:  (n_test, G)  in {0, 1}    test_y:  (n_test,)
    ``shape`` is the image shape (H, W) with H·W = G.
    """

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    shape: tuple[int, int]
    description: str = field(default="", compare=False)

    @property
    def n_pixels(self) -> int:
        return int(self.shape[0] * self.shape[1])


def _binarize(grey: np.ndarray, full_scale: float) -> np.ndarray:
    """1 where grey/full_scale ≥ 0.5, else 0 (float32)."""
    return (grey / full_scale >= DIGITS_BINARIZE_THRESHOLD).astype(np.float32)


@lru_cache(maxsize=1)
def load_digits_binarized() -> ImageData:
    """scikit-learn's 8×8 digits, binarized (pixel/16 ≥ 0.5), fixed split 1500 / 297.

    The split is the permutation ``default_rng(SPLIT_SEED).permutation(1797)``: its first
    ``N_TEST_DIGITS`` entries index the test set. Cached; treat the arrays as read-only.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = _binarize(np.asarray(digits.data, dtype=np.float64), 16.0)
    y = np.asarray(digits.target, dtype=np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    test, train = order[:N_TEST_DIGITS], order[N_TEST_DIGITS:]
    data = ImageData("digits8x8", x[train], y[train], x[test], y[test], (8, 8),
                     "scikit-learn 8×8 digits, binarized at pixel/16 ≥ 0.5, "
                     f"split by default_rng({SPLIT_SEED}).permutation")
    for array in (data.train_x, data.train_y, data.test_x, data.test_y):
        array.setflags(write=False)
    return data


def find_idx_file(directory: str | os.PathLike[str], stem: str) -> Path:
    """``directory/stem`` or ``directory/stem.gz``, whichever exists (the plain file first)."""
    directory = Path(directory)
    candidates = [directory / stem, directory / f"{stem}.gz"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if not directory.is_dir():
        raise DataFileError(directory, "the MNIST directory does not exist")
    raise DataFileError(candidates[0], f"file not found (nor {candidates[1].name}) in {directory}")


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DataFileError(path, f"corrupt or truncated gzip stream ({error})") from None
    except OSError as error:
        raise DataFileError(path, f"cannot be read ({error.strerror or error})") from None


def read_idx(path: str | os.PathLike[str], *, expected_ndim: int | None = None) -> np.ndarray:
    """The array stored in an IDX file of unsigned bytes (gzipped when the name ends in .gz).

    Raises :class:`DataFileError` naming the file when it is missing, when the gzip stream is
    corrupt, when the magic number is not 0x0000 08 nd (or nd ≠ ``expected_ndim``), or when the
    payload is shorter or longer than the header's dimensions say.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFileError(path, f"only {len(raw)} bytes: too short for an IDX header")
    zero0, zero1, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    magic = int.from_bytes(raw[:4], "big")
    if zero0 != 0 or zero1 != 0:
        raise DataFileError(path, f"wrong magic number 0x{magic:08x}: not an IDX file "
                                  "(an IDX file starts with two zero bytes)")
    if type_code != _IDX_UNSIGNED_BYTE:
        raise DataFileError(path, f"wrong magic number 0x{magic:08x}: element type 0x{type_code:02x}"
                                  " is not unsigned byte (0x08)")
    if expected_ndim is not None and ndim != expected_ndim:
        raise DataFileError(path, f"wrong magic number 0x{magic:08x}: {ndim} dimension(s), "
                                  f"expected {expected_ndim} (magic 0x{0x800 + expected_ndim:08x})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(path, f"truncated header: {len(raw)} bytes, the {ndim} dimension "
                                  f"sizes need {header}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64)) if ndim else 1
    payload = len(raw) - header
    if payload < expected:
        raise DataFileError(path, f"truncated: the header says {'×'.join(map(str, dims))} = "
                                  f"{expected} values, the file holds {payload}")
    if payload > expected:
        raise DataFileError(path, f"{payload - expected} unexpected trailing bytes after the "
                                  f"{'×'.join(map(str, dims))} values the header announces")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _mnist_pair(directory: Path, images_stem: str, labels_stem: str,
                limit: int | None) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    images_path = find_idx_file(directory, images_stem)
    labels_path = find_idx_file(directory, labels_stem)
    images = read_idx(images_path, expected_ndim=3)
    labels = read_idx(labels_path, expected_ndim=1)
    if len(images) != len(labels):
        raise DataFileError(labels_path, f"{len(labels)} labels for the {len(images)} images of "
                                         f"{images_path.name}")
    if labels.size and labels.max() > 9:
        raise DataFileError(labels_path, f"label {int(labels.max())} is not a digit 0–9")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    shape = (int(images.shape[1]), int(images.shape[2]))
    x = np.round(images.reshape(len(images), -1).astype(np.float64) / 255.0).astype(np.float32)
    return x, labels.astype(np.int64), shape


def load_mnist(mnist_dir: str | os.PathLike[str], *, n_train: int = MNIST_N_TRAIN) -> ImageData:
    """MNIST with the course's preprocessing: the first ``n_train`` training images, round(pixel/255).

    Reads ``train-images-idx3-ubyte[.gz]`` and ``train-labels-idx1-ubyte[.gz]`` from
    ``mnist_dir``. The test set is the t10k files when both are present, otherwise empty.
    """
    directory = Path(mnist_dir)
    train_x, train_y, shape = _mnist_pair(directory, _MNIST_FILES["train_images"],
                                          _MNIST_FILES["train_labels"], n_train)
    has_test = all(any((directory / f"{_MNIST_FILES[k]}{ext}").is_file() for ext in ("", ".gz"))
                   for k in ("test_images", "test_labels"))
    if has_test:
        test_x, test_y, test_shape = _mnist_pair(directory, _MNIST_FILES["test_images"],
                                                 _MNIST_FILES["test_labels"], None)
        if test_shape != shape:
            raise DataFileError(find_idx_file(directory, _MNIST_FILES["test_images"]),
                                f"images of shape {test_shape}, the training images are {shape}")
    else:
        test_x = np.zeros((0, shape[0] * shape[1]), dtype=np.float32)
        test_y = np.zeros((0,), dtype=np.int64)
    return ImageData("mnist", train_x, train_y, test_x, test_y, shape,
                     f"MNIST from {directory}: first {len(train_x)} training images, "
                     "round(pixel/255)")


# --------------------------------------------------------------------------------------------
# 2-D point clouds: mixtures of Gaussians


@dataclass(frozen=True)
class GaussianMixture:
    """Σ_k w_k N(μ_k, Σ_k) in d dimensions.

    weights: (K,) summing to 1    means: (K, d)    covariances: (K, d, d), symmetric positive
    definite. The parameters are the point of this class: tests evaluate the exact (noised)
    score from them.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        m = np.asarray(self.means, dtype=np.float64)
        c = np.asarray(self.covariances, dtype=np.float64)
        if w.ndim != 1 or m.shape[0] != w.shape[0] or c.shape != (w.shape[0], m.shape[1], m.shape[1]):
            raise ValueError(f"inconsistent shapes: weights {w.shape}, means {m.shape}, "
                             f"covariances {c.shape}")
        if np.any(w <= 0) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-12):
            raise ValueError(f"weights must be positive and sum to 1, got {w}")
        np.linalg.cholesky(c)  # raises LinAlgError unless every Σ_k is positive definite
        for name, value in (("weights", w), ("means", m), ("covariances", c)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_components(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points (n, d) and the index (n,) of the component each was drawn from."""
        components = rng.choice(self.n_components, size=n, p=self.weights)
        noise = rng.standard_normal((n, self.dim))
        factors = np.linalg.cholesky(self.covariances)  # Σ_k = L_k L_kᵀ
        points = self.means[components] + np.einsum("nij,nj->ni", factors[components], noise)
        return points, components


def _isotropic(means: np.ndarray, std: float | np.ndarray) -> np.ndarray:
    stds = np.broadcast_to(np.asarray(std, dtype=np.float64), (len(means),))
    return stds[:, None, None] ** 2 * np.eye(means.shape[1])[None]


def default_mixture() -> GaussianMixture:
    """Three 2-D Gaussians of unequal weight (0.5, 0.3, 0.2), one of them elongated."""
    means = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]])
    covariances = np.array([
        [[0.30, 0.12], [0.12, 0.20]],
        [[0.15, 0.00], [0.00, 0.15]],
        [[0.60, -0.25], [-0.25, 0.20]],
    ])
    return GaussianMixture(np.array([0.5, 0.3, 0.2]), means, covariances)


def ring_mixture(n_components: int = 8, radius: float = 4.0, std: float = 0.4) -> GaussianMixture:
    """``n_components`` equal-weight isotropic Gaussians evenly spaced on a circle."""
    angles = 2 * np.pi * np.arange(n_components) / n_components
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture(np.full(n_components, 1.0 / n_components), means,
                           _isotropic(means, std))


# --------------------------------------------------------------------------------------------
# 2-D point clouds: text


@lru_cache(maxsize=16)
def _glyph_polygons(text: str, family: str) -> tuple[np.ndarray, ...]:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath((0.0, 0.0), text, size=1.0, prop=FontProperties(family=family, weight="bold"))
    polygons = tuple(np.asarray(p, dtype=np.float64) for p in path.to_polygons() if len(p) >= 3)
    if not polygons:
        raise ValueError(f"the text {text!r} has no filled glyphs")
    return polygons


def text_polygons(text: str = "CS446", *, height: float = 2.0,
                  family: str = "DejaVu Sans") -> list[np.ndarray]:
    """The closed glyph outlines of ``text`` (each (m, 2)), centred at 0, glyph box ``height`` tall."""
    polygons = _glyph_polygons(text, family)
    stacked = np.concatenate(polygons)
    lo, hi = stacked.min(axis=0), stacked.max(axis=0)
    centre, scale = (lo + hi) / 2, height / (hi[1] - lo[1])
    return [(p - centre) * scale for p in polygons]


def _inside_even_odd(points: np.ndarray, polygons: list[np.ndarray]) -> np.ndarray:
    """True where a point lies inside an odd number of the polygons (holes stay outside)."""
    from matplotlib.path import Path as MplPath

    count = np.zeros(len(points), dtype=np.int64)
    for polygon in polygons:
        count += MplPath(polygon, closed=True).contains_points(points)
    return count % 2 == 1


def text_point_cloud(n: int, text: str = "CS446", *, rng: np.random.Generator | None = None,
                     seed: int = 0, height: float = 2.0, family: str = "DejaVu Sans") -> np.ndarray:
    """``n`` points (n, 2) uniform inside the glyphs of ``text`` (matplotlib TextPath).

    The glyph box is centred at the origin and ``height`` tall (so "CS446" spans about
    ±2.5·height horizontally). Points are proposed uniformly in the bounding box and kept when
    inside the glyphs by the even–odd rule. Draws from ``rng``, else from
    ``numpy.random.default_rng(seed)``.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    rng = np.random.default_rng(seed) if rng is None else rng
    polygons = text_polygons(text, height=height, family=family)
    stacked = np.concatenate(polygons)
    lo, hi = stacked.min(axis=0), stacked.max(axis=0)
    kept: list[np.ndarray] = []
    total = 0
    while total < n:
        proposals = lo + (hi - lo) * rng.random((max(2 * (n - total), 256), 2))
        inside = proposals[_inside_even_odd(proposals, polygons)]
        kept.append(inside)
        total += len(inside)
    return np.concatenate(kept)[:n] if kept else np.zeros((0, 2))

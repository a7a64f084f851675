"""Training time and accuracy of the Question 2 VAE on the binarized 8×8 digits (or MNIST).

    python benchmarks/train_vae.py [--seed S] [--threads N] [--epochs E] [--mnist-dir DIR]
                                   [--figures DIR] [--json]

Trains ``models.vae.train`` with the default config (one thread unless told) and prints:
wall-clock and CPU seconds of training; the test-set negative ELBO (exact, Gauss–Hermite over
q); on the first 100 test images the exact log p(x) (2-D trapezoid quadrature, with its error),
the ELBO gap and the IWAE_K gaps for K = 1, 10, 100, 1000; the ELBO gap of q := N(0, I)
(part 1.f); and the part 1.e variance ratios (single-sample / analytic-KL) of the ELBO value and
of the gradient with respect to (μ, log σ²), at initialisation and after training.
Target from issue 3: test −ELBO ≤ 21 nats after ≤ 10 s of training on one thread (judged on
the CPU seconds of the training loop; the wall-clock seconds are printed too). With --mnist-dir
and no t10k files, the first 500 training images stand in for the test set.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _variance_ratios(model, x, draws: int = 32, seed: int = 0) -> dict[str, float]:
    import torch

    from models.vae import VAE

    model64 = VAE(model.config.replace(dtype="float64"), torch.Generator().manual_seed(0))
    model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    x = x.double()
    out: dict[str, dict[str, float]] = {"value": {}, "gradient": {}}
    for form in ("analytic", "single_sample"):
        with torch.no_grad():
            mu, logvar = model64.encode(x)
        mu = mu.expand(draws, *mu.shape).clone().requires_grad_()
        logvar = logvar.expand(draws, *logvar.shape).clone().requires_grad_()
        terms = model64.elbo_given_q(x, mu, logvar, torch.Generator().manual_seed(seed), form=form)
        terms.elbo.sum().backward()
        gradient = torch.cat([mu.grad, logvar.grad], dim=-1)  # (S, B, 2d)
        out["value"][form] = float(terms.elbo.detach().var(dim=0).mean())
        out["gradient"][form] = float(gradient.var(dim=0).sum(dim=-1).mean())
    return {kind: v["single_sample"] / v["analytic"] for kind, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--mnist-dir", default=None, help="IDX files (train-images-idx3-ubyte[.gz], ...)")
    parser.add_argument("--figures", default=None, help="write the 2.e figures (PNG) here")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from models.data import DataFileError, load_digits_binarized, load_mnist
    from models.vae import (
        VAE,
        VAEConfig,
        _closed_forms,
        exact_elbo,
        log_marginal_likelihood,
        train,
    )

    _closed_forms()  # derive and compile the formulas before the clock starts
    try:
        data = load_mnist(args.mnist_dir) if args.mnist_dir else load_digits_binarized()
    except DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = VAEConfig(threads=args.threads)
    if args.epochs is not None:
        config = config.replace(epochs=args.epochs)
    result = train(config, seed=args.seed, data=data, progress=True if args.progress else False)
    model = result.model
    report: dict[str, float | int | str] = {
        "data": data.name, "train_images": len(data.train_x), "test_images": len(data.test_x),
        "threads": config.threads, "epochs": result.epochs, "steps": result.steps,
        "train_seconds": round(result.seconds, 3), "train_cpu_seconds": round(result.cpu_seconds, 3),
    }
    test_x = data.test_x if len(data.test_x) else data.train_x[:500]
    elbo, elbo_error = exact_elbo(model, test_x)
    report["test_negative_elbo"] = round(-float(elbo.mean()), 4)
    report["test_negative_elbo_quadrature_error"] = float(elbo_error.mean())

    if model.config.latent_dim == 2:
        subset = test_x[:100]
        start = time.perf_counter()
        log_px = log_marginal_likelihood(model, subset)
        report["log_px_seconds"] = round(time.perf_counter() - start, 3)
        log_p = log_px.value
        report["test100_log_px"] = round(float(log_p.mean()), 4)
        report["test100_log_px_error"] = float(log_px.error.mean())
        report["test100_elbo_gap"] = round(float((log_p - elbo[:100]).mean()), 4)
        with torch.no_grad():
            weights = model.log_importance_weights(
                torch.tensor(np.array(subset)), 4000, torch.Generator().manual_seed(1)).double()
        for k in (1, 10, 100, 1000):
            blocks = weights[: (4000 // k) * k].reshape(4000 // k, k, -1)
            iwae_k = (torch.logsumexp(blocks, dim=1) - math.log(k)).mean(dim=0).numpy()
            report[f"test100_iwae{k}_gap"] = round(float((log_p - iwae_k).mean()), 4)
        report["test100_prior_q_gap"] = round(float((log_p - log_px.prior_elbo).mean()), 4)

    x = torch.tensor(np.array(data.train_x))
    initial = VAE(config.replace(n_pixels=data.n_pixels), torch.Generator().manual_seed(args.seed))
    for name, net in (("initial", initial), ("trained", model)):
        for kind, ratio in _variance_ratios(net, x).items():
            report[f"variance_ratio_single_over_analytic_{kind}_{name}"] = round(ratio, 4)

    if args.figures:
        from models.figures_vae import interpolation_figure, latent_means_figure, prior_samples_figure

        directory = Path(args.figures)
        directory.mkdir(parents=True, exist_ok=True)
        prior_samples_figure(model, image_shape=data.shape, path=directory / "vae_2e_i_samples.png")
        latent_means_figure(model, data, path=directory / "vae_2e_ii_latent_means.png")
        interpolation_figure(model, data, path=directory / "vae_2e_iii_interpolation.png")

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        width = max(map(len, report))
        for key, value in report.items():
            print(f"{key:<{width}}  {value}")
        if data.name == "digits8x8":
            # CPU seconds: on a shared, oversubscribed machine the wall clock also counts the
            # time other processes hold the core; both are printed above
            target = report["test_negative_elbo"] <= 21 and report["train_cpu_seconds"] <= 10
            print(f"target (test −ELBO ≤ 21 nats after ≤ 10 CPU-s on one thread): "
                  f"{'met' if target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

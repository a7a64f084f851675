"""Training time and accuracy of the Question 3 discriminators and the full GAN.

    python benchmarks/train_gan.py [--seed S] [--threads N] [--figures DIR] [--json]

Trains ``models.gan.train_discriminator`` on the 1-D problem (p_data = N(1, 1), p_G =
N(−1, 1.5²)) and the 2-D one (``TWO_D_CONFIG``), and ``models.gan.train_gan`` (an affine
generator on N(2, 0.5²)), on one thread unless told, and prints for each discriminator: the
wall-clock and CPU seconds of training, sup |D − D*| on the region (p_data + p_G)/2 ≥ 0.05,
JSD(p_data ‖ p_G) by quadrature, V(D*) = −log 4 + 2 JSD, the Monte Carlo value of the trained D
(200,000 draws of each distribution, ± its standard error) and its gap to V(D*) by quadrature;
for the GAN: the JSD along training. Targets from issue 3: sup |D − D*| ≤ 0.02 after ≤ 3 s.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--figures", default=None, help="write figure_3.png here")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)

    import numpy as np

    from models.gan import (TWO_D_CONFIG, DiscriminatorConfig, GANConfig, js_divergence,
                            optimal_value, sup_error_on_region, train_discriminator, train_gan,
                            value_by_quadrature, value_estimate)

    report: dict[str, dict] = {}
    trained = {}
    for offset, (name, config) in enumerate((("1-D", DiscriminatorConfig()),
                                             ("2-D", TWO_D_CONFIG))):
        result = train_discriminator(replace(config, threads=args.threads),
                                     seed=args.seed + offset)
        trained[name] = result
        jsd = js_divergence(config.data, config.generator)
        v_star = optimal_value(config.data, config.generator)
        estimate = value_estimate(result.probability, config.data, config.generator, 200_000,
                                  np.random.default_rng(args.seed + 100))
        report[name] = {
            "seconds": result.seconds,
            "cpu_seconds": result.cpu_seconds,
            "sup_error": sup_error_on_region(result),
            "jsd": jsd,
            "value_at_d_star": v_star,
            "minus_log4_plus_2jsd": -math.log(4) + 2 * jsd,
            "value_mc": estimate.mean,
            "value_mc_se": estimate.standard_error,
            "gap_by_quadrature": v_star - value_by_quadrature(result.probability, config.data,
                                                              config.generator),
        }
    gan = train_gan(replace(GANConfig(), threads=args.threads), seed=args.seed)
    final = gan.generator.distribution()
    report["GAN"] = {"seconds": gan.seconds, "steps": gan.recorded_steps, "jsd": gan.jsd,
                     "final_generator": [final.mean[0], final.std[0]]}
    if args.figures:
        from models.figures_gan import question3_figure

        report["GAN"]["figure"] = str(question3_figure(args.figures, one_d=trained["1-D"],
                                                       two_d=trained["2-D"], gan=gan))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name in ("1-D", "2-D"):
        r = report[name]
        print(f"discriminator {name}: {r['seconds']:.2f} s wall, {r['cpu_seconds']:.2f} s CPU; "
              f"sup|D − D*| = {r['sup_error']:.4f} (target ≤ 0.02)")
        print(f"  JSD = {r['jsd']:.6f}; V(D*) = {r['value_at_d_star']:.6f} "
              f"(−log 4 + 2 JSD = {r['minus_log4_plus_2jsd']:.6f}); V(D) by Monte Carlo = "
              f"{r['value_mc']:.5f} ± {r['value_mc_se']:.5f}; V(D*) − V(D) by quadrature = "
              f"{r['gap_by_quadrature']:.2e}")
    g = report["GAN"]
    print(f"GAN: {g['seconds']:.2f} s; JSD {g['jsd'][0]:.4f} → {g['jsd'][-1]:.2e} nats; "
          f"p_G = N({g['final_generator'][0]:.3f}, {g['final_generator'][1]:.3f}²)")
    print("  JSD along training: " + ", ".join(f"{s}: {j:.2e}" for s, j in zip(g["steps"], g["jsd"])))
    if "figure" in g:
        print(f"figure: {g['figure']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

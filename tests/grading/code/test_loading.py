"""Loading a student's file runs only what defines its interface, and stubs what grading lacks.

Real submissions train, plot, parse argv and import the course's helpers (hw5_utils) or
packages the grader lacks (cv2) when imported. The runner parses the file and runs its
top-level statements one at a time, keeping imports, definitions and plain assignments; it
stubs plotting and progress bars (inert) and modules that cannot be imported (absent: calling
them raises a clear ModuleNotFoundError); it notes what it skipped. The loading helpers are
tested in the test process where they touch nothing global, whole loads in a subprocess (they
install an import hook and stub modules) and once end to end through the sandbox. Each check
that could pass vacuously has a twin showing that it notices what it looks for.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grading.code import runner
from grading.code.sandbox import Sandbox

RUNNER = Path(runner.__file__)

# Loads files with the runner's own Runner.module in a fresh interpreter, as the sandbox does
# (the runner loaded from its file, the work directory last on sys.path and the current
# directory), with extra command-line arguments that a top-level parse_args() must not see;
# then runs the test's probe, which adds to ``result`` (``before`` runs before the loads).
DRIVER = r'''
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("student_runner", sys.argv[1])
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
work, names, probe, before = sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
sys.path.append(work)
os.chdir(work)
argv = list(sys.argv)
result = {}
exec(before)
loader = runner.Runner(None, work)
modules = {name: loader.module(name) for name in names}
result.update(errors=loader.import_errors, notes=loader.load_notes,
              argv_restored=sys.argv == argv)
exec(probe)
print("RESULT " + json.dumps(result))
'''


def _load(tmp_path: Path, files: dict[str, str], probe: str = "", *,
          load: list[str] | None = None, before: str = "") -> dict:
    work = tmp_path / "work"
    work.mkdir(parents=True)
    for name, source in files.items():
        (work / f"{name}.py").write_text(textwrap.dedent(source))
    names = list(files) if load is None else load
    done = subprocess.run(
        [sys.executable, "-I", "-c", DRIVER, str(RUNNER), str(work), json.dumps(names),
         textwrap.dedent(probe), textwrap.dedent(before), "--flag-the-file-does-not-define"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def _notes(result: dict, module: str) -> str:
    return "\n".join(result["notes"][module])


def _kinds(source: str) -> dict[int, str | None]:
    """Each top-level statement's line -> why it is skipped (None: it runs)."""
    tree = ast.parse(textwrap.dedent(source))
    own = runner._OwnNames(tree)
    return {statement.lineno: runner._skip_reason(statement, own) for statement in tree.body}


# --------------------------------------------------------------------------------------------
# which statements run (the helpers, in the test process)


def test_the_main_block_is_recognised_in_any_spelling() -> None:
    for test in ('__name__ == "__main__"', "__name__ == '__main__'", "'__main__' == __name__",
                 '__name__=="__main__" and True'):
        assert runner._is_main_guard(ast.parse(test, mode="eval").body), test
    for test in ('__name__ == "hw5"', 'mode == "__main__"', "__name__"):  # the twins
        assert not runner._is_main_guard(ast.parse(test, mode="eval").body), test


def test_definitions_imports_and_plain_assignments_run_and_script_code_does_not() -> None:
    kinds = _kinds('''\
        """Docstring."""
        import numpy as np
        from model import VAE
        def train(model):
            return [1.0]
        class Trainer:
            def fit(self):
                return 1
        model = VAE(latent=2)
        x: np.ndarray = np.zeros(3)
        x += 1
        losses = train(model)
        history = Trainer().fit()
        main()
        vae.train_model()
        for epoch in range(3):
            pass
        while True:
            break
        with open("log.txt") as f:
            pass
        if __name__ == "__main__":
            x = 1
    ''')
    kept = [line for line, kind in kinds.items() if kind is None]
    assert kept == [1, 2, 3, 4, 6, 9, 10, 11]
    assert kinds[12] == kinds[13] == "assignments that call the file's own functions"
    assert kinds[14] == kinds[15] == "calls" and kinds[16] == kinds[18] == "loops"
    assert kinds[20] == "with blocks" and kinds[22] == "the __main__ block"


def test_an_assignment_runs_when_what_it_calls_is_not_defined_in_the_file() -> None:
    # the twin of the test above: the same assignments run when train/fit come from elsewhere
    kinds = _kinds('''\
        import torch
        from helpers import train
        model = torch.nn.Linear(2, 2)
        losses = train(model)
        history = model.fit()
        device = torch.device("cpu")
    ''')
    assert all(kind is None for kind in kinds.values()), kinds


def test_if_and_try_blocks_run_only_when_everything_in_them_would() -> None:
    kinds = _kinds('''\
        import torch
        def main():
            pass
        if torch.cuda.is_available():
            device = "cuda"
        else:
            device = "cpu"
        if device == "cpu":
            DTYPE = torch.float64
            main()
        try:
            import cv2
        except ImportError:
            print("no cv2")
        try:
            import hw5_utils
            hw5_utils.download()
        except ImportError:
            pass
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        parser.parse_args()
    ''')
    assert kinds[4] is None and kinds[8] == "calls"
    assert kinds[11] is None  # the handler's print is replaced by pass (see the load tests)
    assert kinds[15] == "calls"
    assert kinds[22] is None and kinds[23] == "calls"  # set-up calls run, other calls do not


# --------------------------------------------------------------------------------------------
# the stubs (in the test process)


def test_the_tqdm_stand_in_iterates_exactly_like_what_it_wraps() -> None:
    def batches():
        yield from ("a", "b", "c")

    assert list(runner._Progress(batches(), desc="epochs")) == ["a", "b", "c"]
    assert list(runner._trange(2, 9, 3)) == list(range(2, 9, 3))
    with runner._Progress([1, 2], total=2) as bar:
        seen = [x for x in bar]
        bar.set_description("loss 0.5")
        bar.set_postfix(loss=0.5)
        bar.update()
        bar.close()
        bar.refresh()
    assert seen == [1, 2] and len(bar) == 2 and bar.n == 1
    # the twin: an inert stub iterates nothing, so the pass-through is not an accident
    assert list(runner._Inert("tqdm.tqdm")(batches())) == []


def test_an_inert_stub_absorbs_plotting() -> None:
    plt = runner._InertModule("matplotlib.pyplot")
    plt.figure(figsize=(3, 3))
    plt.plot([1, 2], [3, 4], label="x")
    fig, axes = plt.subplots(2, 3)
    axes[1, 2].imshow(np.zeros((2, 2)))
    assert len(axes) == 2 and axes.shape == (2, 3) and len(axes.flatten()) == 6
    _, ax = plt.subplots()
    ax.set_title("one")
    n, bins, patches = plt.hist([1, 2, 3])
    with plt.style.context("ggplot"):
        plt.savefig("figure.png")
    plt.rcParams["font.size"] = 9
    assert bool(plt.gca()) and list(plt.gca()) == [] and "x" not in plt.gca()
    assert runner._InertModule("matplotlib").__version__ == "0+stub"


def test_an_absent_module_can_be_looked_up_but_calling_it_raises_a_clear_error() -> None:
    cv2 = runner._AbsentModule("cv2")
    flag = cv2.IMREAD_GRAYSCALE  # looking things up works
    assert "cv2.IMREAD_GRAYSCALE" in repr(flag)
    with pytest.raises(ModuleNotFoundError, match=r"module 'cv2' is not available to the "
                       r"grader \(it was replaced by a stub so the file could load\); this "
                       r"code called cv2\.resize") as raised:
        cv2.resize(np.zeros((2, 2)), (1, 1))
    assert raised.value.name == "cv2"

    class Loader(runner._AbsentModule("hw5_utils").BaseLoader):  # subclassing works too
        pass

    with pytest.raises(ModuleNotFoundError, match="hw5_utils.BaseLoader"):
        Loader()


# --------------------------------------------------------------------------------------------
# whole loads (in a subprocess)

TRAINS = '''\
import os

RAN = []


def train():
    RAN.append("train")
    open("TRAINED", "w").close()
    return [0.5]


def main():
    RAN.append("main")
    open("MAIN_CALLED", "w").close()


losses = train()
for epoch in range(3):
    RAN.append("for")
    open("LOOPED", "w").close()
while not RAN:
    RAN.append("while")
main()
with open("WITH", "w") as f:
    RAN.append("with")
if __name__ == "__main__":
    RAN.append("__main__")
    open("MAIN_BLOCK", "w").close()
if '__main__' == __name__:
    RAN.append("__main__ reversed")


def after():
    return 42
'''


def test_a_file_that_trains_at_top_level_loads_without_training(tmp_path: Path) -> None:
    result = _load(tmp_path, {"hw": TRAINS}, '''
        hw = modules["hw"]
        result["after"] = hw.after()
        result["ran"] = hw.RAN
        result["has_losses"] = hasattr(hw, "losses")
        result["name"] = hw.__name__
        result["files"] = sorted(os.listdir(work))
    ''')
    assert result["errors"] == {} and result["after"] == 42
    assert result["ran"] == [] and result["files"] == ["hw.py"] and not result["has_losses"]
    assert result["name"] == "hw"
    assert _notes(result, "hw") == ("hw.py: not run: lines 17–30 (top-level code: assignments "
                                    "that call the file's own functions, loops, calls, with "
                                    "blocks, the __main__ block)")


def test_the_markers_see_the_same_file_run_as_a_script(tmp_path: Path) -> None:
    # the twin of the test above: run in full, the file trips every marker the test looks at
    result = _load(tmp_path, {"hw": TRAINS}, '''
        import runpy
        result["ran"] = runpy.run_path(os.path.join(work, "hw.py"), run_name="__main__")["RAN"]
        result["files"] = sorted(os.listdir(work))
    ''', load=[])
    assert result["ran"] == ["train", "for", "for", "for", "main", "with", "__main__",
                             "__main__ reversed"]
    assert result["files"] == ["LOOPED", "MAIN_BLOCK", "MAIN_CALLED", "TRAINED", "WITH",
                               "hw.py"]


def test_a_statement_that_raises_is_noted_and_the_module_still_loads(tmp_path: Path) -> None:
    result = _load(tmp_path, {"hw": '''\
        import sys
        import numpy as np
        data = np.load("missing.npy")
        before = 1
        code = sys.exit(3)
        stop = (_ for _ in ()).throw(KeyboardInterrupt)
        loop = (lambda f: f(f))(lambda f: f(f))
        hoard = bytearray(2**62)
        after = 2
        def double(x):
            return 2 * x
    '''}, 'result["values"] = [modules["hw"].double(2), modules["hw"].before, '
          'modules["hw"].after]')
    notes = result["notes"]["hw"]
    assert result["errors"] == {} and result["values"] == [4, 1, 2]
    assert notes[0] == ("hw.py: line 3 failed and was skipped: FileNotFoundError: [Errno 2] No "
                        "such file or directory: 'missing.npy'")
    assert notes[1] == "hw.py: line 5 failed and was skipped: SystemExit: sys.exit(3)"
    assert notes[2] == "hw.py: line 6 failed and was skipped: KeyboardInterrupt"
    assert notes[3].startswith("hw.py: line 7 failed and was skipped: RecursionError")
    assert notes[4] == "hw.py: line 8 failed and was skipped: MemoryError"
    assert len(notes) == 5


def test_missing_helpers_are_stubbed_and_calling_one_raises_a_clear_error(
        tmp_path: Path) -> None:
    result = _load(tmp_path, {"hw": '''\
        import cv2
        from hw5_utils import load_MNIST, plot
        FLAG = cv2.IMREAD_GRAYSCALE
        def images():
            return load_MNIST()
    '''}, '''
        import importlib
        try:
            modules["hw"].images()
        except ModuleNotFoundError as error:
            result["error"] = str(error)
        result["stub_is_module"] = type(sys.modules["cv2"]).__name__
        try:  # a name the file did not import keeps failing normally (torch's optional imports)
            importlib.import_module("surely_not_installed_xyz")
            result["other"] = "imported"
        except ModuleNotFoundError:
            result["other"] = "ModuleNotFoundError"
        result["other_spec"] = importlib.util.find_spec("surely_not_installed_xyz") is None
    ''')
    assert result["errors"] == {}
    assert _notes(result, "hw") == "hw.py: stubbed (not available to the grader): cv2, hw5_utils"
    assert result["error"] == ("module 'hw5_utils' is not available to the grader (it was "
                               "replaced by a stub so the file could load); this code called "
                               "hw5_utils.load_MNIST")
    assert result["stub_is_module"] == "_AbsentModule"
    assert result["other"] == "ModuleNotFoundError" and result["other_spec"]


def test_a_module_is_stubbed_only_when_the_file_imports_it(tmp_path: Path) -> None:
    # the twin of the last check above: the same missing name, imported by the file, is stubbed
    result = _load(tmp_path, {"hw": "import surely_not_installed_xyz\n"}, '''
        import importlib
        result["other"] = type(importlib.import_module("surely_not_installed_xyz")).__name__
    ''')
    assert result["other"] == "_AbsentModule"
    assert "surely_not_installed_xyz" in _notes(result, "hw")


def test_plots_and_progress_bars_in_a_graded_function_do_nothing(tmp_path: Path) -> None:
    result = _load(tmp_path, {"hw": '''\
        import matplotlib
        import matplotlib.pyplot as plt
        import seaborn as sns
        import wandb
        from IPython.display import clear_output
        from google.colab import drive
        from tqdm import tqdm, trange
        from tqdm.auto import tqdm as auto_tqdm
        matplotlib.use("Agg")
        def train(values):
            total = 0.0
            drive.mount("/content/drive")
            wandb.init(project="hw5")
            bar = tqdm(values, desc="epochs")
            for value in bar:
                total += value
                bar.set_postfix(loss=total)
            for i in trange(3):
                total += i
            for value in auto_tqdm(values):
                total += value
            fig, axes = plt.subplots(1, 2, figsize=(6, 3))
            axes[0].plot(values)
            sns.histplot(values, ax=axes[1])
            plt.savefig("curve.png")
            plt.show()
            clear_output(wait=True)
            wandb.log({"total": total})
            return total
    '''}, '''
        import tqdm as tqdm_module
        result["total"] = modules["hw"].train([1.0, 2.0, 4.0])
        result["files"] = sorted(os.listdir(work))
        result["tqdm"] = type(tqdm_module).__name__
    ''')
    assert result["errors"] == {} and result["total"] == 17.0
    assert result["files"] == ["hw.py"] and result["tqdm"] == "_InertModule"
    assert _notes(result, "hw") == ("hw.py: stubbed (not needed for grading): matplotlib, "
                                    "seaborn, wandb, IPython, google.colab, tqdm\n"
                                    "hw.py: not run: line 9 (top-level code: calls)")


def test_the_stand_in_replaces_a_progress_bar_package_already_imported(
        tmp_path: Path) -> None:
    # torch imports the real tqdm before any file loads; the student's file gets the stand-in
    result = _load(tmp_path, {"hw": "from tqdm import tqdm\n"}, '''
        result["student"] = modules["hw"].tqdm.__name__
        result["library"] = real_tqdm.tqdm.__name__
    ''', before='import tqdm as real_tqdm; result["real"] = type(real_tqdm).__name__')
    # the twin: the real package was imported, and its tqdm is told apart from the stand-in
    assert result["real"] == "module" and result["library"] == "tqdm"
    assert result["student"] == "_Progress"


def test_a_top_level_parser_gets_its_defaults_and_argv_is_restored(tmp_path: Path) -> None:
    result = _load(tmp_path, {"hw": '''\
        import argparse
        import sys
        parser = argparse.ArgumentParser(description="hw5")
        parser.add_argument("--lr", type=float, default=0.1)
        parser.add_argument("--epochs", type=int, default=3)
        args = parser.parse_args()
        ARGV = list(sys.argv)
        def learning_rate():
            return args.lr * args.epochs
    '''}, 'result["lr"] = modules["hw"].learning_rate(); result["argv"] = modules["hw"].ARGV')
    assert result["errors"] == {} and result["notes"]["hw"] == []
    assert result["lr"] == pytest.approx(0.3) and result["argv_restored"]
    assert len(result["argv"]) == 1 and result["argv"][0].endswith("hw.py")


def test_a_parser_with_a_required_argument_is_noted(tmp_path: Path) -> None:
    # the twin of the test above: parse_args() does see argv (only the file's name)
    result = _load(tmp_path, {"hw": '''\
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--data", required=True)
        args = parser.parse_args()
    '''}, 'result["has_args"] = hasattr(modules["hw"], "args")')
    assert result["notes"]["hw"] == ["hw.py: line 4 failed and was skipped: SystemExit: "
                                     "sys.exit(2)"]
    assert not result["has_args"] and result["argv_restored"]


def test_a_syntax_error_is_an_import_error_naming_its_line(tmp_path: Path) -> None:
    result = _load(tmp_path, {
        "bad": "import torch\n\ndef f(x:\n    return x\n",
        "outside": "x = 1\nreturn x\n",
        "good": "def f(x):\n    return x\n",
        "empty": "",  # defines nothing: loads all the same
    }, 'result["loaded"] = sorted(n for n, m in modules.items() if m is not None)')
    assert result["loaded"] == ["empty", "good"] and set(result["errors"]) == {"bad", "outside"}
    assert result["notes"] == {"good": [], "empty": []}
    assert result["errors"]["bad"].startswith("importing bad.py failed: ")
    assert "line 3" in result["errors"]["bad"] and "SyntaxError" in result["errors"]["bad"]
    assert "line 2" in result["errors"]["outside"]
    assert "'return' outside function" in result["errors"]["outside"]


def test_the_submissions_own_files_import_each_other_safely(tmp_path: Path) -> None:
    result = _load(tmp_path, {
        "hw": "from __future__ import annotations\nfrom model import Encoder\n\n\n"
              "def width(x: Undefined) -> int:\n    return Encoder.WIDTH\n",
        "model": "class Encoder:\n    WIDTH = 7\n\n\nfor i in range(2):\n"
                 "    open('MODEL_TRAINED', 'w').close()\n",
        # the twin of the annotations check: without the __future__ import they are evaluated
        "eager": "def width(x: Undefined) -> int:\n    return 7\n",
    }, '''
        result["width"] = modules["hw"].width(None)
        result["same"] = modules["model"] is sys.modules["model"]
        result["files"] = sorted(os.listdir(work))
    ''')
    assert result["errors"] == {} and result["width"] == 7 and result["same"]
    assert result["files"] == ["eager.py", "hw.py", "model.py"]
    assert result["notes"] == {
        "hw": [], "model": ["model.py: not run: lines 5–6 (top-level code: loops)"],
        "eager": ["eager.py: line 1 failed and was skipped: NameError: name 'Undefined' is not "
                  "defined"]}


# --------------------------------------------------------------------------------------------
# end to end: the sandbox

E2E = '''\
"""HW5: a VAE."""
import argparse
import os

import cv2
import matplotlib.pyplot as plt
import numpy as np
import torch
from hw5_utils import load_MNIST
from model import Encoder
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=float, default=2.0)
args = parser.parse_args()
writer = SummaryWriter("runs")
X = np.load("mnist.npy")
STATE = {"trained": 0.0, "main": 0.0}


def train(epochs):
    STATE["trained"] = 1.0
    return [1.0] * epochs


losses = train(10)
for epoch in tqdm(range(3)):
    STATE["trained"] = 1.0
train(1)


def double(x):
    total = 0.0
    for value in tqdm([1.0, 2.0], desc="batches"):
        total += value
    fig, axes = plt.subplots(1, 2)
    axes[0].plot([1.0, 2.0])
    plt.savefig("figure.png")
    writer.add_scalar("x", x)
    return torch.tensor(args.scale * x + Encoder.OFFSET + total - 3.0, dtype=torch.float64)


def ran(x):
    return torch.tensor([STATE["trained"], STATE["main"], float(os.path.exists("figure.png")),
                         float(os.path.exists("MODEL_TRAINED"))], dtype=torch.float64)


def read_images(x):
    return load_MNIST()


def optional_imports(x):
    import importlib

    import torch.distributions as D
    try:
        importlib.import_module("surely_not_installed_xyz")
        missing = 0.0
    except ModuleNotFoundError:
        missing = 1.0
    log_p = D.Normal(0.0, 1.0).log_prob(torch.tensor(x, dtype=torch.float64))
    return torch.stack([log_p, torch.tensor(missing, dtype=torch.float64)])


if __name__ == "__main__":
    STATE["main"] = 1.0
'''

E2E_MODEL = '''\
import torch


class Encoder(torch.nn.Module):
    OFFSET = 0.0


for step in range(2):
    open("MODEL_TRAINED", "w").close()
'''


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    base = tmp_path_factory.mktemp("loading")
    files = {"hw5_vae.py": E2E, "model.py": E2E_MODEL, "broken.py": "x = 1\ndef f(:\n"}
    for name, source in files.items():
        (base / name).write_text(source)
    with Sandbox([base / name for name in files]) as box:
        reply = box.request({"op": "load", "modules": ["hw5_vae", "model", "broken"]})
        yield box, reply.header


def _call(box: Sandbox, function: str, x: float = 2.0) -> dict:
    reply = box.request({"op": "call", "modules": ["hw5_vae", "model"], "function": function,
                         "cases": [{"args": [{"float": x}]}]})
    (case,) = reply.header["cases"]
    case["out"] = reply.arrays.get("0:out")
    return case


def test_the_sandbox_loads_a_realistic_file_and_replies_with_notes(sandbox) -> None:  # noqa: ANN001
    _, header = sandbox
    assert set(header["errors"]) == {"broken"} and "line 2" in header["errors"]["broken"]
    notes = header["notes"]
    assert set(notes) == {"hw5_vae", "model"}
    assert notes["hw5_vae"][:2] == [
        "hw5_vae.py: stubbed (not available to the grader): cv2, hw5_utils",
        "hw5_vae.py: stubbed (not needed for grading): matplotlib, torch.utils.tensorboard, tqdm"]
    assert notes["hw5_vae"][2].startswith("hw5_vae.py: not run: lines 27–30, 66–67")
    assert notes["hw5_vae"][3].startswith("hw5_vae.py: line 18 failed and was skipped: "
                                          "FileNotFoundError")
    assert notes["model"] == ["model.py: not run: lines 8–9 (top-level code: loops)"]


def test_the_sandbox_grades_the_files_functions_and_ran_none_of_its_script_code(
        sandbox) -> None:  # noqa: ANN001
    box, _ = sandbox
    doubled = _call(box, "double", 2.0)
    assert doubled["ok"], doubled
    np.testing.assert_array_equal(doubled["out"], 4.0)
    markers = _call(box, "ran")
    assert markers["ok"] and markers["out"].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_the_sandbox_reports_a_call_into_a_missing_helper_clearly(sandbox) -> None:  # noqa: ANN001
    case = _call(sandbox[0], "read_images")
    assert not case["ok"] and case["exception"] == "ModuleNotFoundError"
    assert ("module 'hw5_utils' is not available to the grader (it was replaced by a stub so "
            "the file could load); this code called hw5_utils.load_MNIST") in case["error"]


def test_torch_and_optional_imports_behave_after_loading_the_file(sandbox) -> None:  # noqa: ANN001
    case = _call(sandbox[0], "optional_imports", 0.0)
    assert case["ok"], case
    np.testing.assert_allclose(case["out"], [-0.5 * np.log(2 * np.pi), 1.0])

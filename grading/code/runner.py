"""The script that runs INSIDE the sandbox: imports the student's files and calls their functions.

Started by :class:`grading.code.sandbox.Sandbox` as ``python -I -S -B student_runner.py CONFIG``
(never imported by the harness; it imports nothing of the project). It keeps private copies
of the protocol pipes (stdin/stdout), points file descriptors 0 and 1 elsewhere (so whatever
the student prints lands in the captured stderr, not in the protocol), imports numpy and
the modules to preload (numpy and torch when grading: importing torch takes a second or
two, paid once per process), says hello, and then answers requests:

``{"op": "load", "modules": [...]}``
    Import the student's modules (files in the work directory); reply with the import errors.

``{"op": "call", "modules": [...], "function": name, "cases": [case, ...]}``
    Import the first of ``modules`` (files in the work directory) that defines ``function``
    and call it once per case (``repeat`` times with the same arguments, the generator
    running on). A case's arguments are specs: ``{"array": name, "dtype": "float64",
    "grad": bool}`` (a tensor made from a request array), ``{"float": v}``, ``{"int": v}``,
    ``{"generator": seed}`` (a ``torch.Generator`` seeded so; the global torch, NumPy and
    ``random`` generators are seeded from ``case["seed"]`` before the case too) and
    ``{"callback": name, "outputs": k}`` (a function lent by the harness: called with
    tensors, it sends them as float64 arrays and returns the harness's answer as tensors).
    With ``"grad": [argument positions]`` the runner back-propagates the sum of the output
    and reports the gradients.

The reply describes each case (type, dtype, shape, error) in JSON and carries the outputs
and gradients as float64 arrays — plain numbers, never objects (see the wire format in
``grading/code/sandbox.py``). Nothing here is trusted by the harness: the student's code runs in
this process and may replace any of it; the harness validates every reply.
"""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import sys
import time
import traceback

MAGIC = b"GVF1"
MAX_OUTPUT_ELEMENTS = 16 * 2**20


class Channel:
    """Frames over the private copies of the protocol pipes."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out

    def _read(self, n: int) -> bytes:
        chunks, have = [], 0
        while have < n:
            chunk = os.read(self.fd_in, n - have)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            have += len(chunk)
        return b"".join(chunks)

    def receive(self) -> tuple[dict, dict]:
        import numpy as np

        if self._read(4) != MAGIC:
            raise EOFError
        (head_len,) = struct.unpack(">I", self._read(4))
        header = json.loads(self._read(head_len).decode())
        (payload_len,) = struct.unpack(">Q", self._read(8))
        payload = self._read(payload_len)
        arrays, offset = {}, 0
        for name, shape in header.get("arrays", []):
            count = 1
            for n in shape:
                count *= n
            arrays[name] = np.frombuffer(payload, dtype="<f8", count=count,
                                         offset=offset).reshape(shape).copy()
            offset += 8 * count
        return header, arrays

    def send(self, header: dict, arrays: dict | None = None) -> None:
        import numpy as np

        directory, chunks = [], []
        for name, value in (arrays or {}).items():
            array = np.ascontiguousarray(np.asarray(value, dtype="<f8"))
            directory.append([name, list(array.shape)])
            chunks.append(array.tobytes())
        head = json.dumps({**header, "arrays": directory}).encode()
        payload = b"".join(chunks)
        data = MAGIC + struct.pack(">I", len(head)) + head + struct.pack(">Q", len(payload)) \
            + payload
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd_out, view):]


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    student = [line for line in lines if "student_runner.py" not in line]
    text = "".join(student[-6:]).strip()
    return text[-1500:]


class Runner:
    def __init__(self, channel: Channel, work: str) -> None:
        import numpy as np

        self.np = np
        self.channel = channel
        self.work = work
        self.modules: dict[str, object] = {}
        self.import_errors: dict[str, str] = {}

    @property
    def torch(self):  # noqa: ANN201 - imported on first use (preloaded when grading)
        import torch

        return torch

    # -- modules -------------------------------------------------------------------------------

    def module(self, name: str) -> object | None:
        import importlib.util

        if name in self.modules:
            return self.modules[name]
        if name in self.import_errors:
            return None
        path = os.path.join(self.work, name + ".py")
        # a file named like a module already loaded (numpy.py, json.py) must not replace it
        registered = name if name not in sys.modules else f"_submission_{name}"
        try:
            spec = importlib.util.spec_from_file_location(registered, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[registered] = module
            spec.loader.exec_module(module)
        except BaseException as error:  # noqa: BLE001 - the student's import may do anything
            sys.modules.pop(registered, None)
            self.import_errors[name] = f"importing {name}.py failed: {_describe(error)}"
            return None
        self.modules[name] = module
        return module

    def function(self, modules: list[str], name: str) -> tuple[object | None, str]:
        for module_name in modules:
            module = self.module(module_name)
            candidate = getattr(module, name, None) if module is not None else None
            if callable(candidate):
                return candidate, module_name
        errors = "; ".join(self.import_errors[m] for m in modules if m in self.import_errors)
        return None, (f"no function {name!r} in {', '.join(m + '.py' for m in modules)}"
                      + (f" ({errors})" if errors else ""))

    # -- arguments -----------------------------------------------------------------------------

    def proxy(self, name: str, outputs: int):  # noqa: ANN201
        np, torch = self.np, self.torch
        channel = self.channel

        def lent(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            arrays, dtype = {}, None
            for key, value in [*((f"a{i}", a) for i, a in enumerate(args)),
                               *((f"k_{k}", v) for k, v in kwargs.items())]:
                if isinstance(value, torch.Tensor):
                    if dtype is None and value.is_floating_point():
                        dtype = value.dtype
                    value = value.detach().to("cpu", torch.float64).numpy()
                arrays[key] = np.asarray(value, dtype=np.float64)
            channel.send({"kind": "callback", "name": name}, arrays)
            header, result = channel.receive()
            if header.get("kind") != "callback_reply" or not header.get("ok"):
                raise RuntimeError(f"calling {name} failed: {header.get('error')}")
            values = [torch.from_numpy(result[f"r{i}"]).to(dtype or torch.float64)
                      for i in range(outputs)]
            return values[0] if outputs == 1 else tuple(values)

        lent.__name__ = name
        return lent

    def argument(self, spec: dict, arrays: dict):  # noqa: ANN201
        torch = self.torch
        if "array" in spec:
            dtype = {"float64": torch.float64, "float32": torch.float32}[spec.get("dtype",
                                                                                   "float64")]
            tensor = torch.tensor(arrays[spec["array"]], dtype=dtype)
            if spec.get("grad"):
                tensor.requires_grad_(True)
            return tensor
        if "float" in spec:
            return float(spec["float"])
        if "int" in spec:
            return int(spec["int"])
        if "generator" in spec:
            return torch.Generator().manual_seed(int(spec["generator"]))
        if "callback" in spec:
            return self.proxy(str(spec["callback"]), int(spec.get("outputs", 1)))
        return None

    # -- outputs -------------------------------------------------------------------------------

    def convert(self, value) -> tuple[dict, object | None]:  # noqa: ANN001
        """The output's description and its values as float64 (or None if not a tensor)."""
        torch = sys.modules.get("torch")
        info = {"type": type(value).__module__ + "." + type(value).__qualname__}
        if torch is None or not isinstance(value, torch.Tensor):
            return info, None
        info.update(dtype=str(value.dtype).replace("torch.", ""), shape=list(value.shape),
                    requires_grad=bool(value.requires_grad))
        if value.numel() > MAX_OUTPUT_ELEMENTS:
            raise ValueError(f"the output has {value.numel()} elements")
        if value.is_complex():
            return info, None
        return info, value.detach().to("cpu", torch.float64).contiguous().numpy()

    # -- requests ------------------------------------------------------------------------------

    def call(self, request: dict, arrays: dict) -> tuple[dict, dict]:
        function, where = self.function([str(m) for m in request["modules"]],
                                        str(request["function"]))
        if function is None:
            return {"kind": "reply", "found": False, "error": where}, {}
        cases, out_arrays = [], {}
        for index, case in enumerate(request["cases"]):
            seed = int(case.get("seed", 0))
            if "torch" in sys.modules:
                sys.modules["torch"].manual_seed(seed)
            self.np.random.seed(seed % 2**32)
            random.seed(seed)
            report: dict = {"ok": False}
            start = time.perf_counter()
            try:
                args = [self.argument(s, arrays) for s in case.get("args", [])]
                kwargs = {k: self.argument(s, arrays) for k, s in case.get("kwargs", {}).items()}
                values, info = [], {}
                for _ in range(int(case.get("repeat", 1))):
                    output = function(*args, **kwargs)
                    info, value = self.convert(output)
                    if value is None:
                        report.update(info)
                        raise TypeError(f"returned {info['type']}, not a torch.Tensor")
                    if values and value.shape != values[0].shape:
                        raise ValueError(f"the output's shape changed between calls: "
                                         f"{tuple(values[0].shape)} then {tuple(value.shape)}")
                    values.append(value)
                report.update(info)
                stacked = values[0] if "repeat" not in case else self.np.stack(values)
                out_arrays[f"{index}:out"] = stacked
                if case.get("grad"):
                    report["grads"] = self.gradients(output, args, case["grad"], index,
                                                     out_arrays)
                report["ok"] = True
            except BaseException as error:  # noqa: BLE001 - anything the student raises
                report["error"] = _describe(error)
                report["exception"] = type(error).__name__
            report["seconds"] = time.perf_counter() - start
            cases.append(report)
        return {"kind": "reply", "found": True, "module": where, "cases": cases}, out_arrays

    def gradients(self, output, args, positions, index, out_arrays) -> dict:  # noqa: ANN001
        torch = self.torch
        if not output.requires_grad:
            return {str(p): "disconnected" for p in positions}
        output.sum().backward()
        found = {}
        for p in positions:
            grad = args[p].grad
            if grad is None:
                found[str(p)] = "none"
            else:
                found[str(p)] = "ok"
                out_arrays[f"{index}:grad:{p}"] = grad.detach().to(torch.float64).numpy()
        return found


def main() -> None:
    config = json.loads(sys.argv[1])
    for path in config["sys_path"]:
        if path not in sys.path:
            sys.path.append(path)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # the student's prints go to the captured stderr
    channel = Channel(fd_in, fd_out)
    import importlib

    import numpy as np

    versions = {"numpy": np.__version__}
    for name in config.get("preload", ["torch"]):
        module = importlib.import_module(name)
        versions[name] = getattr(module, "__version__", "")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    sys.path.append(config["work"])  # last: the student's files cannot shadow a library
    runner = Runner(channel, config["work"])
    channel.send({"kind": "hello", "layers": config["layers"], "uid": os.getuid(),
                  "versions": versions})
    while True:
        try:
            request, arrays = channel.receive()
        except EOFError:
            return
        try:
            if request.get("op") == "call":
                header, out = runner.call(request, arrays)
            elif request.get("op") == "load":
                for name in request.get("modules", []):
                    runner.module(str(name))
                header, out = {"kind": "reply", "errors": runner.import_errors}, {}
            else:
                header, out = {"kind": "reply", "echo": request.get("echo")}, {}
        except BaseException as error:  # noqa: BLE001
            header, out = {"kind": "reply", "found": True, "error": _describe(error),
                           "cases": []}, {}
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student may have replaced it
                pass
        channel.send(header, out)


if __name__ == "__main__":
    main()

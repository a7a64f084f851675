"""Interface profiles: where one offering of the course put each graded function, and how.

A profile maps the functions of one course offering's starter files onto the checks of
:mod:`grading.code.spec` (their *roles*): the function's name and place (a module function,
or ``Class.name`` for a static method or a method called with a stand-in ``self``), its
arguments in order with their meanings (the parameterisation of a Gaussian's spread among
them: ``variance``, ``log_variance`` or ``standard_deviation``), the sign of an ELBO
(``loss``: −ELBO, minimised; ``objective``: the ELBO, maximised), the dtypes the course calls
it with and accepts back, the containers an array may come in, and the points of each
property. Profiles are TOML files staff write without Python; the built-in ones
(``grading/code/profiles/*.toml``) are complete examples, and the project's own interface is
the ``genverify`` profile (:data:`grading.code.spec.CODE_SPECS`).

:func:`detect_profile` picks the profile whose functions a submission defines (parsed, never
run), :func:`load_profile` reads a name or a file, and :func:`resolve` finds where a
submission put each function (by its name, not the file's: ``hw5_vae.py``, ``hw3_vae.py``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.code.spec import CODE_SPECS, ROLES, SCALES, FunctionSpec, Property, role_meaning

__all__ = [
    "Profile",
    "ProfileError",
    "builtin_profiles",
    "detect_profile",
    "load_profile",
    "resolve",
]

PROFILE_DIRECTORY = Path(__file__).with_name("profiles")
_MAX_PROFILE_BYTES = 256 * 1024
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FUNCTION_KEYS = {"name", "where", "role", "part", "summary", "arguments", "input_dtypes",
                  "output_dtype", "sign", "self", "forms", "points"}
_SELF_VALUES = ("latent dimension", "data dimension")


class ProfileError(ValueError):
    """A profile that cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class Profile:
    """One offering's interface: its graded functions, in order."""

    name: str
    title: str
    functions: tuple[FunctionSpec, ...]

    @property
    def points(self) -> float:
        return sum(f.points for f in self.functions)


def _genverify() -> Profile:
    return Profile("genverify", "genverify's own interface (log_normal_diag, ..., "
                                "annealed_langevin)", CODE_SPECS)


def builtin_profiles() -> dict[str, Profile]:
    """The built-in profiles by name: ``genverify`` and every TOML file shipped with it."""
    profiles = {"genverify": _genverify()}
    for path in sorted(PROFILE_DIRECTORY.glob("*.toml")):
        profile = load_profile(path)
        profiles[profile.name] = profile
    return profiles


def load_profile(source: str | Path) -> Profile:
    """A built-in profile by name, or a profile read from a TOML file."""
    if isinstance(source, str) and not source.endswith(".toml"):
        if source == "genverify":
            return _genverify()
        path = PROFILE_DIRECTORY / f"{source}.toml"
        if not _IDENTIFIER.fullmatch(source.replace("-", "_")) or not path.is_file():
            names = ", ".join(["genverify", *(p.stem for p in
                                              sorted(PROFILE_DIRECTORY.glob("*.toml")))])
            raise ProfileError(f"no built-in profile {source!r} (built in: {names}; or give "
                               f"a .toml file)")
        source = path
    path = Path(source)
    if not path.is_file() or path.is_symlink():
        raise ProfileError(f"{path.name}: not a regular file")
    if path.stat().st_size > _MAX_PROFILE_BYTES:
        raise ProfileError(f"{path.name}: larger than {_MAX_PROFILE_BYTES // 1024} KiB")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProfileError(f"{path.name} is not valid TOML: {error}") from None
    return parse_profile(data, path.stem)


def parse_profile(data: Mapping[str, Any], default_name: str = "profile") -> Profile:
    """A profile from a TOML document already read (see the module docstring)."""
    unknown = set(data) - {"name", "title", "function"}
    if unknown:
        raise ProfileError(f"unknown top-level keys {sorted(unknown)} (expected name, title "
                           f"and [[function]] tables)")
    name = str(data.get("name", default_name))
    entries = data.get("function")
    if not isinstance(entries, list) or not entries:
        raise ProfileError(f"profile {name!r} has no [[function]] tables")
    functions = tuple(_function(entry, index) for index, entry in enumerate(entries))
    names = [f.name for f in functions]
    if len(set(names)) != len(names):
        raise ProfileError(f"profile {name!r} names a function twice")
    for function in functions:
        for attribute, value in function.self_attributes:
            if value.startswith("reference:") and value[10:].strip() not in names:
                raise ProfileError(f"{function.name}: self.{attribute} lends "
                                   f"{value[10:].strip()!r}, which is not a function of "
                                   f"this profile")
    return Profile(name, str(data.get("title", name)), functions)


def _function(entry: Any, index: int) -> FunctionSpec:
    where = f"[[function]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ProfileError(f"{where} is not a table")
    unknown = set(entry) - _FUNCTION_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)} (allowed: "
                           f"{', '.join(sorted(_FUNCTION_KEYS))})")
    name = str(entry.get("name", ""))
    if not _IDENTIFIER.fullmatch(name):
        raise ProfileError(f"{where}: 'name' must be a Python identifier, got {name!r}")
    where = f"function {name!r}"
    role = ROLES.get(str(entry.get("role", "")))
    if role is None:
        raise ProfileError(f"{where}: 'role' must be one of {', '.join(ROLES)}")
    location = str(entry.get("where", name))
    if not all(_IDENTIFIER.fullmatch(part) for part in location.split(".")) or \
            location.count(".") > 1:
        raise ProfileError(f"{where}: 'where' must be name or Class.name, got {location!r}")
    arguments = entry.get("arguments")
    if not isinstance(arguments, dict) or not arguments:
        raise ProfileError(f"{where}: 'arguments' must be a table {{argument = meaning}} in "
                           f"call order")
    pairs = tuple((str(k), str(v)) for k, v in arguments.items())
    allowed = set(role.meanings) - {"scale"} | (set(SCALES) if "scale" in role.meanings
                                                else set())
    for argument, meaning in pairs:
        if not _IDENTIFIER.fullmatch(argument) or meaning not in allowed:
            raise ProfileError(f"{where}: argument {argument!r} has meaning {meaning!r}; "
                               f"role {role.name} takes {', '.join(sorted(allowed))}")
    given = {role_meaning(m) for _, m in pairs}
    missing = [m for m in role.meanings if m not in given and m not in role.optional]
    if missing or len(given) != len(pairs):
        raise ProfileError(f"{where}: the arguments must give each of "
                           f"{', '.join(role.meanings)} once (missing: "
                           f"{', '.join(missing) or 'none'}; optional: "
                           f"{', '.join(role.optional) or 'none'})")
    dtypes = tuple(str(d) for d in entry.get("input_dtypes", ["float64", "float32"]))
    if not dtypes or not set(dtypes) <= {"float32", "float64"}:
        raise ProfileError(f"{where}: 'input_dtypes' must list float32 and/or float64")
    output_dtype = str(entry.get("output_dtype", "same"))
    sign = str(entry.get("sign", "loss"))
    if output_dtype not in ("same", "float") or sign not in ("loss", "objective"):
        raise ProfileError(f"{where}: 'output_dtype' is same or float, 'sign' is loss (−ELBO, "
                           f"minimised) or objective (the ELBO, maximised)")
    self_table = entry.get("self", {})
    if not isinstance(self_table, dict):
        raise ProfileError(f"{where}: 'self' must be a table {{attribute = value}}")
    for attribute, value in self_table.items():
        if not _IDENTIFIER.fullmatch(str(attribute)) or not (
                value in _SELF_VALUES or str(value).startswith("reference:")):
            raise ProfileError(f"{where}: self.{attribute} must be one of "
                               f"{', '.join(map(repr, _SELF_VALUES))} or 'reference: <name of "
                               f"a function of this profile>'")
    forms = entry.get("forms", {})
    if not isinstance(forms, dict) or any(
            k not in arguments or not isinstance(v, list) or not v or
            not set(v) <= {"tensor", "numpy", "list"} for k, v in forms.items()):
        raise ProfileError(f"{where}: 'forms' maps an argument to a list of tensor, numpy, list")
    return FunctionSpec(
        name, str(entry.get("part", "")), f"{location}({', '.join(arguments)})",
        str(entry.get("summary", role.summary)), _properties(role, entry.get("points", {}),
                                                             where),
        role=role.name, where=location, arguments=pairs, input_dtypes=dtypes,
        output_dtype=output_dtype, sign=sign,
        self_attributes=tuple((str(k), str(v)) for k, v in self_table.items()),
        forms=tuple((str(k), tuple(str(f) for f in v)) for k, v in forms.items()))


def _properties(role: Any, points: Any, where: str) -> tuple[Property, ...]:
    if not isinstance(points, dict):
        raise ProfileError(f"{where}: 'points' must be a table {{property = points}}")
    checks = {p.check for p in role.properties}
    unknown = set(points) - checks
    if unknown:
        raise ProfileError(f"{where}: no properties {sorted(unknown)} in role {role.name} "
                           f"(its properties: {', '.join(sorted(checks))})")
    properties = []
    for prop in role.properties:
        value = points.get(prop.check, prop.points)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not 0 <= value <= 1000:
            raise ProfileError(f"{where}: points.{prop.check} must be a number ≥ 0")
        properties.append(Property(prop.name, float(value), prop.check))
    return tuple(properties)


# --------------------------------------------------------------------------------------------
# finding the functions of a submission


def resolve(function: FunctionSpec, located: Mapping[str, Sequence[str]]
            ) -> tuple[str, list[str]] | None:
    """Where a submission defines ``function``: the name to call and the modules, or None.

    ``located`` maps each top-level name and ``Class.method`` to the modules defining it
    (:func:`grading.code.session.locate_functions`). The profile's place first; then the same
    method in another class; then a module-level function of that name (or a method of that
    name, for a profile that asks for a function).
    """
    wanted = function.location
    attribute = wanted.rpartition(".")[2]
    if wanted in located:
        return wanted, list(located[wanted])
    methods = sorted(k for k in located if k.endswith("." + attribute))
    if methods:
        return methods[0], list(located[methods[0]])
    if "." in wanted and attribute in located:
        return attribute, list(located[attribute])
    return None


def detect_profile(located: Mapping[str, Sequence[str]],
                   profiles: Mapping[str, Profile] | None = None) -> tuple[Profile, str]:
    """The profile most of whose functions the submission defines, and a sentence saying so
    (ties go to the course's profiles, which name their functions more specifically)."""
    profiles = dict(profiles or builtin_profiles())
    scored = []
    for order, profile in enumerate(profiles.values()):
        found = sum(resolve(f, located) is not None for f in profile.functions)
        exact = sum(f.location in located for f in profile.functions)
        scored.append((found / len(profile.functions), exact, profile.name != "genverify",
                       -order, profile))
    share, exact, _, _, best = max(scored, key=lambda s: s[:4])
    if share == 0:
        fallback = profiles.get("genverify", best)
        return fallback, (f"profile {fallback.name}: none of the functions of a known "
                          f"interface was found ({', '.join(profiles)})")
    found = round(share * len(best.functions))
    return best, (f"profile {best.name} ({best.title}): {found} of {len(best.functions)} of "
                  f"its functions found")

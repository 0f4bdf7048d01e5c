"""AutoGPT Forge 0.1.4: an ``ActionRegister`` whose every action goes through
the gate, and AutoGPT's command payload made into an intent.

    from forge.agent import ForgeAgent
    from gait.autogpt import GatedActionRegister

    agent = ForgeAgent(database, workspace)
    agent.abilities = GatedActionRegister(agent, gate, context=ctx, trace_dir="gait-out")
    await agent.abilities.run_action(task_id, "write_file", file_path="report.txt", data="ok")

Forge runs every ability through ``ActionRegister.run_action(task_id,
action_name, *args, **kwargs)``; :class:`GatedActionRegister` is that class
with the gate in front: the intent is the ability's name and its arguments
by parameter name (``args``; the policy's ``map tool`` mappings give the
targets), and the context's ``workspace`` is the task's workspace — forge's
``LocalWorkspace`` puts a task's files in ``<base_path>/<task_id>/`` and reads
a leading ``/`` as the top of that folder, so relative paths are judged
where forge will write them. The ability runs once, only on ``allow``;
otherwise ``run_action`` raises :class:`gait.Blocked` /
:class:`gait.ApprovalRequired` (both :class:`gait.NotAllowed`) or
:class:`gait.GateUnavailable`, and the ability is never called.

:func:`intent_from_command` takes AutoGPT's command payload
(``{"command": {"name", "args"}, "skill_provenance": {…}}``) so that an
AutoGPT build other than forge can ask the same gate before it executes a
command.

This module imports without forge (``intent_from_command`` needs nothing);
:class:`GatedActionRegister` needs ``autogpt-forge==0.1.4`` (its own venv:
forge pins ``openai<2``).
"""

from __future__ import annotations

import copy
import importlib
import inspect
from pathlib import PurePosixPath
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Sequence, Tuple

from ._context import Context, intent_for
from ._convert import NotExactJSON, exact_copy, jsonable
from ._decision import Decision
from ._errors import GateUnavailable
from ._gate import Gate, PathLike, refusal
from ._trace import mark_executed, record_before_run, record_refused

# forge is imported by name at run time (it is not installed where mypy and
# the other adapters run); without it only intent_from_command works.
_ActionRegister: Any
_FORGE_IMPORT_ERROR: Optional[ImportError]
try:
    _ActionRegister = importlib.import_module("forge.actions.registry").ActionRegister
except ImportError as _e:
    _ActionRegister, _FORGE_IMPORT_ERROR = object, _e
else:
    _FORGE_IMPORT_ERROR = None

__all__ = ["FORGE_WORKSPACE_ARGS", "GatedActionRegister", "intent_from_command"]

#: The arguments of forge 0.1.4's own abilities that name a file in the
#: task's workspace (``forge/actions/file_system/files.py``): forge strips
#: one leading ``/`` from them and joins them to ``<base_path>/<task_id>``.
FORGE_WORKSPACE_ARGS: Mapping[str, Tuple[str, ...]] = {
    "list_files": ("path",),
    "read_file": ("file_path",),
    "write_file": ("file_path",),
}

_SKILL_KEYS = (
    ("name", "skill_name"),
    ("version", "skill_version"),
    ("source", "source"),
    ("publisher", "publisher"),
    ("digest", "digest"),
    ("signature_key_id", "signature_key_id"),
)


def _skill(value: Any) -> Any:
    """An intent's ``skill_provenance`` from the payload's: the intent form
    (``skill_name``, ...) as it is; Gait's skill object (``name``,
    ``version``, ``source``, ``publisher``, ``digest``, ``signature_key_id``)
    mapped to it, absent keys left out. Anything else is passed on as it is
    (the runtime refuses what is not valid provenance)."""
    if isinstance(value, Mapping) and "skill_name" not in value and "name" in value:
        return {dst: value[src] for src, dst in _SKILL_KEYS if src in value}
    return jsonable(value)


def _rooted(args: Any, names: Sequence[str]) -> Any:
    """``args`` with the named string arguments re-rooted as forge does: one
    leading ``/`` removed (forge's ``LocalWorkspace._resolve_path``), so the
    runtime joins them to the task's workspace."""
    if not names or not isinstance(args, dict):
        return args
    out = dict(args)
    for name in names:
        value = out.get(name)
        if isinstance(value, str) and value.startswith("/"):
            out[name] = value[1:]
    return out


async def _refused_run() -> None:
    """Never reached: an intent whose arguments are a list is invalid."""
    raise RuntimeError("gait: an invalid intent was run")


def intent_from_command(
    payload: Any,
    context: Optional[Context] = None,
    *,
    workspace: Optional[str] = None,
    workspace_args: Optional[Mapping[str, Sequence[str]]] = None,
    trust_payload_skill: bool = False,
) -> Dict[str, Any]:
    """The intent of an AutoGPT command payload ``{"command": {"name": ...,
    "args": {...}}, "skill_provenance": {...}}``: ``tool_name`` is the
    command's name, ``args`` its arguments (the policy's ``map tool``
    mappings give the targets), ``context`` from ``context`` (with
    ``workspace`` in place of its own when given: the folder relative paths
    are resolved in) and ``skill_provenance`` the context's skill.

    The payload is model-controlled data: its ``skill_provenance`` is what
    the model claims (a trusted publisher, a pinned digest, a key id — all
    public values), so it is **ignored** unless ``trust_payload_skill=True``
    — and even then the context's skill, when it has one, wins. Use the
    opt-in only when the payload comes from code you trust, never from the
    model. (Gait's ``{name, version, source, publisher, digest,
    signature_key_id}`` form is mapped to the intent's.)

    ``workspace_args`` names, per command, the arguments the executor roots in
    the workspace whatever their leading ``/`` (forge's file abilities:
    :data:`FORGE_WORKSPACE_ARGS`); others are left as they are.

    A payload of another shape is not guessed at: its pieces are passed on as
    they are and the runtime judges the intent invalid (``block``,
    ``intent_invalid``)."""
    command = payload.get("command") if isinstance(payload, Mapping) else None
    name: Any = command.get("name") if isinstance(command, Mapping) else None
    args: Any = command.get("args", {}) if isinstance(command, Mapping) else None
    args = jsonable(dict(args) if isinstance(args, Mapping) else args)
    if isinstance(name, str) and workspace_args:
        args = _rooted(args, tuple(workspace_args.get(name, ())))
    ctx = context if context is not None else Context()
    if workspace is not None:
        ctx = ctx.merged(workspace=workspace)
    intent = intent_for(name if isinstance(name, str) else jsonable(name), args, ctx)
    if (
        trust_payload_skill
        and ctx.skill is None
        and isinstance(payload, Mapping)
        and payload.get("skill_provenance") is not None
    ):
        intent["skill_provenance"] = _skill(payload["skill_provenance"])
    return intent


def _task_workspace(agent: Any, task_id: Any) -> Optional[str]:
    """``<base_path>/<task_id>`` of forge's ``LocalWorkspace`` (absolute
    once forge resolved it), or None for a workspace without a local
    absolute base (then the context's own workspace stands)."""
    base = getattr(getattr(agent, "workspace", None), "base_path", None)
    if base is None or base == "":
        return None
    path = PurePosixPath(str(base))
    if not path.is_absolute():
        return None
    return str(path / str(task_id))


class GatedActionRegister(_ActionRegister):  # type: ignore[misc,unused-ignore]
    """Forge's ``ActionRegister`` with the gate in front of ``run_action``.

    ``context`` gives identity, risk class and skill; its ``workspace`` is
    replaced, per call, by the task's workspace folder (forge's
    ``LocalWorkspace``: ``<base_path>/<task_id>``) and its ``session_id``,
    when not set, is the task id. ``workspace_args`` adds, per ability, the
    arguments that forge roots in the task's workspace (defaults:
    :data:`FORGE_WORKSPACE_ARGS`, forge's own file abilities). Abilities of
    the register this one replaces (``agent.abilities``) are carried over.
    With ``trace_dir``, one decision record per call is written to
    ``<trace_dir>/autogpt/<task_id>-<n>.json`` (``n`` counts the task's
    calls through this register from 1): written with ``executed: false``
    before the ability runs — if it cannot be written the ability is not
    run (:class:`gait.GateUnavailable`, code ``record_write_failed``) — and
    rewritten with ``executed: true`` once it has run.

    ``trust_payload_skill``: whether :meth:`run_command` may take the skill
    provenance a payload claims (default False: payloads are
    model-controlled, and a model can claim any publisher). The context's
    skill always wins over a payload's."""

    def __init__(
        self,
        agent: Any,
        gate: Gate,
        context: Optional[Context] = None,
        trace_dir: Optional[PathLike] = None,
        workspace_args: Optional[Mapping[str, Sequence[str]]] = None,
        trust_payload_skill: bool = False,
    ) -> None:
        if _FORGE_IMPORT_ERROR is not None:
            raise ImportError(
                "gait.autogpt.GatedActionRegister needs AutoGPT Forge (pip install autogpt-forge==0.1.4): "
                f"{_FORGE_IMPORT_ERROR}"
            ) from _FORGE_IMPORT_ERROR
        previous = getattr(agent, "abilities", None)
        super().__init__(agent)
        if isinstance(previous, _ActionRegister) and previous is not self:
            for name, ability in previous.abilities.items():
                self.abilities.setdefault(name, ability)
        self.gate = gate
        self.context = context if context is not None else Context()
        self.trace_dir = trace_dir
        paths: Dict[str, Tuple[str, ...]] = {k: tuple(v) for k, v in FORGE_WORKSPACE_ARGS.items()}
        for name, args in (workspace_args or {}).items():
            paths[name] = tuple(dict.fromkeys((*paths.get(name, ()), *args)))
        self.workspace_args: Mapping[str, Tuple[str, ...]] = paths
        self.trust_payload_skill = bool(trust_payload_skill)
        self._calls: Dict[str, int] = {}

    # -- intents ----------------------------------------------------------

    def _bind(self, action_name: Any, task_id: Any, args: Tuple[Any, ...], kwds: Dict[str, Any]) -> Optional[inspect.BoundArguments]:
        """The call as forge makes it (``method(agent, task_id, *args,
        **kwds)``) bound to the ability's parameters, defaults applied; None
        for an unknown ability or a call that does not fit its signature."""
        ability = self.abilities.get(action_name) if isinstance(action_name, str) else None
        method = getattr(ability, "method", None)
        if method is None:
            return None
        try:
            bound = inspect.signature(method).bind(self.agent, task_id, *args, **kwds)
        except TypeError:
            return None
        bound.apply_defaults()
        return bound

    @staticmethod
    def _arguments(bound: Optional[inspect.BoundArguments], args: Tuple[Any, ...], kwds: Dict[str, Any]) -> Any:
        """The call's arguments by parameter name (defaults applied, the
        ``agent`` and ``task_id`` forge passes first left out). Positional
        arguments that cannot be named (an unknown ability, a call that does
        not fit its signature: ``bound`` None) leave ``args`` a list, which
        the runtime refuses as an invalid intent."""
        if bound is not None:
            params = list(bound.signature.parameters.values())
            if len(params) < 2 or any(p.kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params[:2]):
                # Forge's `agent` and `task_id` are not two parameters of
                # their own (`(*args, **kwargs)`): the arguments cannot be
                # named.
                return [*args, kwds]
            names = {p.name for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD}
            out: Dict[str, Any] = {}
            for param in params[2:]:
                value = bound.arguments[param.name]
                if param.kind is inspect.Parameter.VAR_KEYWORD:
                    if any(key in names for key in value):
                        # A **kwargs key named like a positional-only or
                        # *args parameter would be judged in place of the
                        # value that parameter receives: invalid.
                        return [*args, kwds]
                    out.update(value)
                elif param.kind is inspect.Parameter.VAR_POSITIONAL:
                    if value:
                        return [*args, kwds]
                else:
                    out[param.name] = value
            return out
        if args:
            return [*args, kwds]
        return dict(kwds)

    def _prepare(self, task_id: Any, action_name: Any, args: Tuple[Any, ...], kwds: Dict[str, Any]) -> "Tuple[Any, Callable[[], Awaitable[Any]]]":
        """The arguments to judge, and the run of the ability with deep
        copies of them, defaults included: a change made to the caller's
        objects (or to a mutable default) while the gate decides never
        reaches the ability, nor a change the ability makes the record."""
        bound = self._bind(action_name, task_id, args, kwds)
        try:
            if bound is None:
                run_args, run_kwds = copy.deepcopy((args, kwds))
            else:
                forge_passes = list(bound.signature.parameters)[:2]  # agent, task_id
                for name, value in list(bound.arguments.items()):
                    if name not in forge_passes:
                        bound.arguments[name] = copy.deepcopy(value)
                run_args, run_kwds = tuple(bound.args[2:]), dict(bound.kwargs)
        except Exception as e:  # noqa: BLE001 - a value that cannot be copied
            return [*args, kwds, f"not copyable: {type(e).__name__}"], lambda: _refused_run()
        # The record's own copy (the ability may change what it is given).
        judged = copy.deepcopy(self._arguments(bound, args, kwds))
        try:
            # Only exact JSON types (and exact paths) are judged as what the
            # ability runs with: a `str` subclass is judged by its
            # characters but runs as whatever its `__str__` says (forge
            # roots file names with `str(path)`).
            exact_copy(judged)
        except NotExactJSON as e:
            return [f"not exact JSON: {e}"], lambda: _refused_run()
        return judged, lambda: super(GatedActionRegister, self).run_action(task_id, action_name, *run_args, **run_kwds)

    def intent(self, task_id: Any, action_name: str, *args: Any, **kwds: Any) -> Dict[str, Any]:
        """The intent ``run_action(task_id, action_name, *args, **kwds)``
        sends to the gate."""
        return self._intent(task_id, action_name, self._arguments(self._bind(action_name, task_id, args, kwds), args, kwds), None)

    def _intent(self, task_id: Any, action_name: Any, call_args: Any, skill: Any) -> Dict[str, Any]:
        payload: Dict[str, Any] = {"command": {"name": action_name, "args": call_args}}
        if skill is not None:
            payload["skill_provenance"] = skill
        ctx = self.context
        if ctx.session_id is None and isinstance(task_id, str):
            ctx = ctx.merged(session_id=task_id)
        return intent_from_command(
            payload,
            ctx,
            workspace=_task_workspace(self.agent, task_id),
            workspace_args=self.workspace_args,
            trust_payload_skill=self.trust_payload_skill,
        )

    # -- running ----------------------------------------------------------

    def _next_id(self, task_id: Any) -> str:
        key = str(task_id)
        n = self._calls.get(key, 0) + 1
        self._calls[key] = n
        return f"{key}-{n}"

    def _refused(self, call_id: str, intent: Dict[str, Any], decision: Optional[Decision], error: Optional[str] = None) -> None:
        record_refused(self.trace_dir, "autogpt", call_id, intent, decision, error)

    async def _gated(self, task_id: Any, action_name: Any, intent: Dict[str, Any], call_id: str, run: Any) -> Any:
        try:
            decision = await self.gate.aevaluate(intent)
        except GateUnavailable as e:
            self._refused(call_id, intent, None, str(e))
            raise
        if decision.verdict != "allow":
            self._refused(call_id, intent, decision)
            raise refusal(decision, action_name if isinstance(action_name, str) else None)
        # The record (executed: false) before the ability runs: never run
        # unrecorded.
        try:
            path = record_before_run(self.trace_dir, "autogpt", call_id, intent, decision)
        except Exception as e:  # noqa: BLE001 - refuse: never run unrecorded
            raise GateUnavailable(f"the decision record could not be written: {e}", "record_write_failed") from None
        try:
            return await run()
        finally:
            mark_executed(path, "autogpt", call_id, intent, decision)

    async def run_action(self, task_id: str, action_name: str, *args: Any, **kwds: Any) -> Any:
        """Asks the gate, then runs forge's ``run_action`` once, only on
        ``allow``; raises :class:`gait.NotAllowed` or
        :class:`gait.GateUnavailable` without running the ability."""
        judged, run = self._prepare(task_id, action_name, args, kwds)
        intent = self._intent(task_id, action_name, judged, None)
        return await self._gated(task_id, action_name, intent, self._next_id(task_id), run)

    async def run_command(self, task_id: str, payload: Any, tool_call_id: Optional[str] = None) -> Any:
        """Runs an AutoGPT command payload (``{"command": {"name", "args"},
        "skill_provenance": {…}}``) as ``run_action(task_id, name, **args)``
        would. The payload is model-controlled: its ``skill_provenance`` is
        ignored unless the register was built with
        ``trust_payload_skill=True``, and the context's skill, when set,
        always wins. A payload of another shape is refused as an invalid
        intent. ``tool_call_id`` names its decision record (default
        ``<task_id>-<n>``)."""
        # A copy of the payload: the intent is built from it and the
        # ability runs with copies of it, whatever happens to the caller's
        # objects while the gate decides.
        payload = copy.deepcopy(payload)
        command = payload.get("command") if isinstance(payload, Mapping) else None
        name: Any = command.get("name") if isinstance(command, Mapping) else None
        args: Any = command.get("args", {}) if isinstance(command, Mapping) else None
        skill = payload.get("skill_provenance") if isinstance(payload, Mapping) else None
        call_args: Any = args
        run: Any = None  # reached only on allow, which needs a valid intent
        if isinstance(name, str) and isinstance(args, Mapping):
            call_args, run = self._prepare(task_id, name, (), dict(args))
        intent = self._intent(task_id, name, call_args, skill)
        call_id = tool_call_id if tool_call_id is not None else self._next_id(task_id)
        return await self._gated(task_id, name, intent, call_id, run)

"""AttentionInterface and AttentionMaskInterface: dict-like registries with global and local entries.

The documentation: a dict-like object keeping track of allowed functions; a new
function is added for everyone with ``register()``; a model that needs to
overwrite one locally declares its own instance and sets it there.  The
properties run a state machine over register / new instance / local set /
local delete and compare every instance with a model of the two layers after
each step.  The registries' global entries are restored after every run.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from layer_conformance import runtime
from layer_conformance.missing import missing
from layer_conformance.support.checks import requires
from layer_conformance.support.state import registry_snapshots, restore_snapshots

REGISTRIES = [
    pytest.param("AttentionInterface", marks=requires("AttentionInterface"), id="AttentionInterface"),
    pytest.param("AttentionMaskInterface", marks=requires("AttentionMaskInterface"), id="AttentionMaskInterface"),
]

#: Keys the machine uses: fresh ones, plus "sdpa", which both registries ship with.
KEYS = ("sdpa", "lc-test-a", "lc-test-b", "lc-test-c")
MISSING = "lc-test-never-set"
#: The keys of the lookup machine: also "eager", which models keep themselves (an entry of it overrides theirs).
LOOKUP_KEYS = (*KEYS, "eager")
#: A key the lookup invariant sets locally on the instance it checks, and deletes again.
PROBE = "lc-test-local-probe"


def _value(tag: str):
    def fn(*args, **kwargs):
        return tag

    fn.__name__ = fn.__qualname__ = f"fn_{tag}"
    return fn


VALUES = [_value(t) for t in "uvwxyz"]


def machine_for(impl, registry_name: str, keys: tuple[str, ...] = KEYS, lookup=None) -> type[RuleBasedStateMachine]:
    """The state machine over one registry; ``lookup(instance, expected entries, who)``, when given, is one more
    invariant checked on every instance after every step."""
    cls = getattr(impl, registry_name)

    class RegistryMachine(RuleBasedStateMachine):
        instances = Bundle("instances")

        def __init__(self) -> None:
            super().__init__()
            self.snapshots = registry_snapshots(impl)
            self.global_model = dict(cls())  # what every instance sees before local overrides
            self.views: list[tuple[object, dict]] = []  # (instance, its local overrides)

        def teardown(self) -> None:
            restore_snapshots(self.snapshots)

        @initialize(target=instances)
        def first_instance(self):
            inst = cls()
            self.views.append((inst, {}))
            return len(self.views) - 1

        @rule(target=instances)
        def new_instance(self):
            inst = cls()
            self.views.append((inst, {}))
            return len(self.views) - 1

        @rule(key=st.sampled_from(keys), value=st.sampled_from(VALUES))
        def register(self, key, value):
            cls.register(key, value)
            self.global_model[key] = value

        @rule(i=instances, key=st.sampled_from(keys), value=st.sampled_from(VALUES))
        def set_locally(self, i, key, value):
            inst, local = self.views[i]
            inst[key] = value
            local[key] = value

        @precondition(lambda self: any(local for _, local in self.views))
        @rule(data=st.data())
        def delete_locally(self, data):
            i = data.draw(st.sampled_from([i for i, (_, local) in enumerate(self.views) if local]))
            inst, local = self.views[i]
            key = data.draw(st.sampled_from(sorted(local)))
            del inst[key]
            del local[key]

        @rule(i=instances, key=st.sampled_from(keys))
        def delete_without_local_override_is_a_key_error(self, i, key):
            inst, local = self.views[i]
            if key in local:
                return
            try:
                del inst[key]
            except KeyError:
                return
            raise AssertionError(f"del instance[{key!r}] without a local override did not raise KeyError")

        @invariant()
        def every_instance_sees_global_entries_under_its_own(self):
            fresh = cls()
            self._check(fresh, {}, "a new instance")
            for n, (inst, local) in enumerate(self.views):
                self._check(inst, local, f"instance #{n}")

        def _check(self, inst, local: dict, who: str) -> None:
            expected = {**self.global_model, **local}
            what = f"{registry_name} {who}"
            if lookup is not None:
                lookup(inst, expected, what)
                return
            assert set(inst) == set(expected), f"{what}: keys {sorted(inst)}, but should be {sorted(expected)}"
            assert len(inst) == len(expected), f"{what}: len {len(inst)}, but should be {len(expected)}"
            assert set(inst.keys()) == set(expected), f"{what}: keys() {sorted(inst.keys())}"
            assert sorted(inst.valid_keys()) == sorted(expected), f"{what}: valid_keys() {sorted(inst.valid_keys())}"
            items = dict(inst.items())
            for key, value in expected.items():
                assert key in inst, f"{what}: {key!r} in instance is False"
                assert inst[key] is value, f"{what}: instance[{key!r}] is {inst[key]!r}, but should be {value!r}"
                assert inst.get(key) is value, f"{what}: get({key!r}) is {inst.get(key)!r}"
                assert items[key] is value, f"{what}: items()[{key!r}] is {items[key]!r}"
            assert sorted(map(id, inst.values())) == sorted(map(id, expected.values())), f"{what}: values()"
            assert MISSING not in inst, f"{what}: {MISSING!r} in instance is True"
            sentinel = object()
            assert inst.get(MISSING, sentinel) is sentinel, f"{what}: get(missing, default) did not give the default"
            try:
                inst[MISSING]
            except KeyError:
                pass
            else:
                raise AssertionError(f"{what}: instance[{MISSING!r}] did not raise KeyError")

    RegistryMachine.__name__ = f"{registry_name}Machine"
    return RegistryMachine


@pytest.mark.parametrize("registry", REGISTRIES)
def test_registry_state_machine(impl, registry):
    """``register(key, fn)`` makes the key visible from every instance, existing and new; an assignment on
    one instance is visible there, shadows the global entry and never reaches other instances or the
    global mapping; deleting it restores the global entry (deleting a key with no local override is a
    KeyError); ``in``, ``len``, iteration, ``keys``/``items``/``values``, ``get`` with a default,
    ``valid_keys()`` and KeyError for unknown keys behave as for a dict of global-then-local entries."""
    machine = machine_for(impl, registry)
    current = runtime.hypothesis_settings()
    run_state_machine_as_test(
        machine,
        settings=settings(current, stateful_step_count=20, suppress_health_check=[HealthCheck.too_slow]),
    )


@pytest.mark.parametrize("registry", REGISTRIES)
def test_default_entries(impl, registry):
    """Both registries ship with an ``"sdpa"`` entry; the mask registry also with ``"eager"``."""
    inst = getattr(impl, registry)()
    assert "sdpa" in inst, f"{registry}() has no 'sdpa' entry; keys: {sorted(inst)}"
    assert callable(inst["sdpa"]), f"{registry}()['sdpa'] is not callable"
    if registry == "AttentionMaskInterface":
        assert "eager" in inst, f"{registry}() has no 'eager' entry; keys: {sorted(inst)}"
        assert callable(inst["eager"]), f"{registry}()['eager'] is not callable"


def _lookup(default):
    """The invariant of the lookup machine: ``get_interface`` on one instance, for every key of the machine,
    ``None`` and a key nobody set."""

    def check(inst, expected: dict, what: str) -> None:
        for key in (*LOOKUP_KEYS, None, MISSING):
            if key in expected or key in ("eager", None):
                want = expected.get(key, default)
                got = inst.get_interface(key, default)
                assert got is want, f"{what}: get_interface({key!r}, default) is {got!r}, but should be {want!r}"
                continue
            try:
                got = inst.get_interface(key, default)
            except KeyError:
                continue
            raise AssertionError(f"{what}: get_interface({key!r}, default) returned {got!r}, but should raise KeyError")

        inst[PROBE] = probe = _value("local-probe")  # a local entry, set and taken back on every check
        try:
            got = inst.get_interface(PROBE, default)
        finally:
            del inst[PROBE]
        assert got is probe, f"{what}: get_interface({PROBE!r}, default) is {got!r}, but should be the local entry"

    return check


@requires("AttentionInterface")
def test_get_interface_follows_the_registry(impl):
    """``AttentionInterface.get_interface(attn_implementation, default)`` is the lookup models make with their
    config's ``_attn_implementation``: it returns the entry an instance holds for that key (its local
    override first, else the registered one), through every register / local set / local delete of the
    state machine; for ``"eager"``, which models keep themselves, and for ``None`` (a module used on its own)
    it returns ``default`` unless an entry of that key exists; any other key nobody registered or set is a
    KeyError."""
    if not callable(getattr(impl.AttentionInterface, "get_interface", None)):
        missing("AttentionInterface.get_interface", impl)
    machine = machine_for(impl, "AttentionInterface", LOOKUP_KEYS, lookup=_lookup(_value("model-default")))
    current = runtime.hypothesis_settings()
    run_state_machine_as_test(
        machine,
        settings=settings(current, stateful_step_count=20, suppress_health_check=[HealthCheck.too_slow]),
    )

"""docutils' reStructuredText parser, made cheaper for reading text out of documentation.

Parsing is most of a big ingest's time, and docutils spends a third of it building state
machines: every list, field list and block of explicit markup is parsed by a new machine that
builds all fifteen of its states (each compiling its transitions), though it uses one or two.
The machines here build a state the first time it is needed. The inliner does not look for
bare URLs and e-mail addresses in plain text: it would make links of them, and only their text
is kept. The document tree is otherwise the same, node for node
(``tests/test_chunking.py`` compares the sections with docutils' own on Django's documentation
style).
"""

from collections.abc import Iterable
from typing import Any

import docutils.parsers.rst
import docutils.statemachine
from docutils.parsers.rst import roles, states


class _LazyStates(dict[str, docutils.statemachine.State]):
    """A machine's states by name, each built on first use."""

    def __init__(
        self, machine: docutils.statemachine.StateMachine, classes: Iterable[type]
    ) -> None:
        super().__init__()
        self.machine = machine
        self.classes = {cls.__name__: cls for cls in classes}

    def __missing__(self, name: str) -> docutils.statemachine.State:
        cls = self.classes[name]  # KeyError: the machine reports an unknown state
        state = self[name] = cls(self.machine, self.machine.debug)
        if getattr(self.machine, "memo", None) is not None:
            state.runtime_init()  # built while the machine runs: set up as run() set the others
        return state


class _Machine(states.RSTStateMachine):
    def add_states(self, state_classes: Iterable[type]) -> None:
        self.states = _LazyStates(self, state_classes)


class _NestedMachine(states.NestedStateMachine):
    def add_states(self, state_classes: Iterable[type]) -> None:
        self.states = _LazyStates(self, state_classes)


def _with_lazy_machines(cls: type[states.RSTState]) -> type[states.RSTState]:
    """The state class whose nested machines are lazy too, under the same name (machines
    find their states by class name)."""

    def init(self: states.RSTState, state_machine: Any, debug: bool = False) -> None:
        cls.__init__(self, state_machine, debug)
        self.nested_sm_kwargs = {"state_classes": STATE_CLASSES, "initial_state": "Body"}

    return type(cls.__name__, (cls,), {"nested_sm": _NestedMachine, "__init__": init})


STATE_CLASSES = tuple(_with_lazy_machines(cls) for cls in states.state_classes)


class _Dropped(list[Any]):
    """Where the inliner registers the patterns of text it would make links of (bare URLs,
    e-mail addresses, PEP and RFC numbers): dropped, so that text is left as it is. (A subclass
    of the inliner cannot do it: docutils builds its patterns from the class's own ``vars``.)"""

    def append(self, item: Any) -> None:
        pass


class Parser(docutils.parsers.rst.Parser):
    """docutils' parser with lazy state machines; one per document (it is not reentrant)."""

    def __init__(self) -> None:
        inliner = states.Inliner()
        inliner.implicit_dispatch = _Dropped()
        super().__init__(inliner=inliner)
        self.state_classes = STATE_CLASSES

    def parse(self, inputstring: str, document: Any) -> None:
        # docutils' own, with the machine class swapped: it builds the machine inline.
        self.setup_parse(inputstring, document)
        self.document.settings.setdefault("tab_width", 8)
        self.document.settings.setdefault("syntax_highlight", "long")
        self.statemachine = _Machine(
            state_classes=self.state_classes,
            initial_state=self.initial_state,
            debug=document.reporter.debug_flag,
        )
        inputlines = docutils.statemachine.string2lines(
            inputstring, tab_width=document.settings.tab_width, convert_whitespace=True
        )
        limit = self.document.settings.line_length_limit
        for number, line in enumerate(inputlines, start=1):
            if len(line) > limit:
                self.document.append(
                    self.document.reporter.error(f"Line {number} exceeds the line-length-limit.")
                )
                break
        else:
            self.statemachine.run(inputlines, document, inliner=self.inliner)
        # A ``.. default-role::`` lasts for its document only (docutils' registry, unstubbed).
        vars(roles)["_roles"].pop("", None)
        self.finish_parse()

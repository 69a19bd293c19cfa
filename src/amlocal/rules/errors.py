"""What the rules raise: ``RuleViolation`` (a ValueError) and its subclasses.

    RuleViolation(ValueError)     a value broke one of the rules
    ├── InvalidName               a workspace/experiment/compute/datastore/environment/run id name
    │   └── InvalidModelName
    ├── InvalidRunFileName        a run file name (relative, '/'-separated, no '..')
    ├── PathOutsideRoot           a path built from input leaves its root
    │   └── SymlinkRefused        a link met where links are never followed
    ├── NotARegularFile           a directory, FIFO, socket or device where a file was expected
    └── FileTooLarge              a file over the size cap given to a copy

Why not raise amlocal's own errors: this package must import in a training job where
amlocal is absent. Python matches ``except`` clauses on real base classes only (no
``__subclasscheck__`` hook), so the host cannot make these classes count as its
``InvalidArgumentError`` after the fact. Instead ``amlocal.exceptions`` defines, for each
class here, a subclass that is also an ``InvalidArgumentError`` and registers it with
``register_host_classes``; the rules build every error through ``violation()``, which picks
the registered class. So on the host a bad name raises something that is both an
``amlocal.exceptions.InvalidArgumentError`` and a ``RuleViolation``; in a job it raises the
plain ``RuleViolation`` subclass. Whoever can write ``except InvalidArgumentError`` has
imported ``amlocal.exceptions`` and so has registered the classes.
"""

_SHOWN_CHARS = 80
_host_classes = {}


def shown(value, limit=_SHOWN_CHARS):
    """``repr(value)`` cut to about ``limit`` characters, saying how long the value was."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        text = "<{} object>".format(type(value).__name__)
    if len(text) <= limit:
        return text
    size = ""
    if isinstance(value, (str, bytes)):
        size = ", {:,} characters".format(len(value)) if isinstance(value, str) \
            else ", {:,} bytes".format(len(value))
    return "{}... (cut{})".format(text[:limit], size)


class RuleViolation(ValueError):
    """A value broke one of Azure ML's rules.

    ``field`` names what was given (``"experiment name"``), ``value`` is the value itself,
    ``rule`` says what is allowed, ``example`` is a valid value, ``hint`` what to do next.
    """

    def __init__(self, field, value, rule, example=None, hint=None):
        self.field = field
        self.value = value
        self.rule = rule
        self.example = example
        self.hint = hint
        message = "Invalid {} {}: {}.".format(field, shown(value), rule)
        if example is not None:
            message += " Example of a valid {}: {!r}.".format(field, example)
        if hint:
            message += " " + hint
        super().__init__(message)


class InvalidName(RuleViolation):
    """A name that Azure ML would refuse (and that amlocal would turn into a path)."""


class InvalidModelName(InvalidName):
    pass


class InvalidRunFileName(RuleViolation):
    pass


class PathOutsideRoot(RuleViolation):
    pass


class SymlinkRefused(PathOutsideRoot):
    pass


class NotARegularFile(RuleViolation):
    pass


class FileTooLarge(RuleViolation):
    pass


def register_host_classes(mapping):
    """Raise ``mapping[cls]`` (a subclass of ``cls``) wherever the rules raise ``cls``."""
    for rule_class, host_class in mapping.items():
        if not issubclass(host_class, rule_class):
            raise TypeError("{} must subclass {}".format(host_class.__name__, rule_class.__name__))
        _host_classes[rule_class] = host_class


def violation(cls, *args, **kwargs):
    """An instance of ``cls``, or of the host's registered subclass of it."""
    return _host_classes.get(cls, cls)(*args, **kwargs)

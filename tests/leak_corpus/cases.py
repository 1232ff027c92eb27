"""The corpus: each case, its expected answer and the root that should be named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.leak_corpus import clean, leaky, native


@dataclass(frozen=True)
class Case:
    name: str
    func: Callable[..., Any]
    leaks: bool
    root: str | None = None  # text a retention path must contain
    kind: str | None = None  # expected LeakReport.kind
    expected_exceptions: tuple[type[BaseException], ...] = ()


LEAKS: tuple[Case, ...] = (
    Case("module_list", leaky.module_list, True, "leaky._SESSIONS", "python"),
    Case("module_dict", leaky.module_dict, True, "leaky._STORE", "python"),
    Case(
        "unbounded_lru",
        leaky.unbounded_lru,
        True,
        "functools.lru_cache of tests.leak_corpus.leaky._render",
        "python",
    ),
    Case("unique_loggers", leaky.unique_loggers, True, "logging.getLogger('corpus.request.", "python"),
    Case("observers", leaky.observers, True, "leaky._BUS", "python"),
    Case("stored_exceptions", leaky.stored_exceptions, True, "leaky._ERRORS", "python"),
    Case("task_set", leaky.task_set, True, "leaky._TASKS", "python"),
    Case("small_object", leaky.small_object, True, "leaky._SMALL", "python"),
    Case("every_tenth", leaky.every_tenth, True, "leaky._RARE", "python"),
    Case("class_attribute_cycles", leaky.class_attribute_cycles, True, "Registry.nodes", "python"),
    Case("numpy_arrays", leaky.numpy_arrays, True, "leaky._ARRAYS", "python"),
    Case("bytes_cache", leaky.bytes_cache, True, "leaky._PAYLOADS", "python"),  # untracked dict
    Case("closures", leaky.closures, True, "leaky._CALLBACKS", "python"),
    Case("bound_methods", leaky.bound_methods, True, "leaky._HANDLERS", "python"),
    Case(
        "atexit_hooks",
        leaky.atexit_hooks,
        True,
        "atexit.register(tests.leak_corpus.leaky._ExitHook)",
        "python",
    ),
    Case("handmade_module", leaky.handmade_module, True, "sys.modules['corpus_plugins'].loaded", "python"),
    Case(
        "thread_local_store",
        leaky.thread_local_store,
        True,
        "threading.local (per-thread data) -> dict['seen']",
        "python",
    ),
    Case("finalizers", leaky.finalizers, True, "leaky._RESOURCES", "python"),
    Case(
        "class_per_call",
        leaky.class_per_call,
        True,
        "module tests.leak_corpus.leaky._CLASS_REGISTRY -> dict key",
        "python",
    ),
    Case("slow_leak", leaky.slow_leak, True, "leaky._SLOW_KEPT", "python"),
    Case("slow_sparse_leak", leaky.slow_sparse_leak, True, "leaky._SLOW_EVERY_FIFTH", "python"),
    Case("ctypes_malloc", native.malloc_leak, True, None, "native"),
    Case("fd_leak", leaky.fd_leak, True, None, "fds"),
    Case("thread_leak", leaky.thread_leak, True, "thread Thread-", "threads"),
)

CLEAN: tuple[Case, ...] = (
    Case("pure", clean.pure, False),
    Case("bounded_lru", clean.bounded_lru, False),
    Case("object_pool", clean.object_pool, False),
    Case("regex_cache", clean.regex_cache, False),
    Case("lazy_init", clean.lazy_init, False),
    Case("one_time_step", clean.one_time_step, False),
    Case("sawtooth", clean.sawtooth, False),
    Case("garbage_cycles", clean.garbage_cycles, False),
    Case("sawtooth_of_cycles", clean.sawtooth_of_cycles, False),
    Case("weak_cache", clean.weak_cache, False),
    Case("ring_buffer", clean.ring_buffer, False),
    Case("fragmentation", clean.fragmentation, False),
    Case("error_path", clean.error_path, False, expected_exceptions=(ValueError,)),
    Case("async_pure", clean.async_pure, False),
    Case("numpy_temporaries", clean.numpy_temporaries, False),
    Case("same_logger", clean.same_logger, False),
    Case("ctypes_malloc_free", native.malloc_free, False),
    Case("slow_plateau", clean.slow_plateau, False),
    Case("slow_sawtooth", clean.slow_sawtooth, False),
    Case("slow_warmup", clean.slow_warmup, False),
    Case("fd_open_close", clean.fd_open_close, False),
    Case("thread_start_join", clean.thread_start_join, False),
)

CASES: tuple[Case, ...] = LEAKS + CLEAN


def reset() -> None:
    """Drop what the leaky cases retained (call between cases)."""
    leaky.reset()

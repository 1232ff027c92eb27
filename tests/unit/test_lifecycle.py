"""The component lifecycle: create, operate, close, for sync and async operations and factories."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from memwatch.config.lifecycle import component_operation, is_async_callable, sync_calls

LOG: list[str] = []


class Sync:
    def __init__(self) -> None:
        LOG.append("create")

    def close(self) -> None:
        LOG.append("close")


class Async:
    def __init__(self) -> None:
        LOG.append("create")

    async def aclose(self) -> None:
        await asyncio.sleep(0)
        LOG.append("aclose")

    def close(self) -> None:  # a sync close exists too: inside a loop, aclose wins
        LOG.append("close")


class Stoppable:
    def stop(self) -> None:
        LOG.append("stop")


def operate(component: Any) -> None:
    LOG.append(f"operate {type(component).__name__}")


async def aoperate(component: Any) -> None:
    await asyncio.sleep(0)
    LOG.append(f"aoperate {type(component).__name__}")


async def amake() -> Async:
    await asyncio.sleep(0)
    return Async()


def failing(component: Any) -> None:
    raise ValueError("boom")


@pytest.fixture(autouse=True)
def clear() -> None:
    LOG.clear()


def run(call: Any) -> None:
    result = call()
    if inspect.iscoroutine(result):
        asyncio.run(result)


@pytest.mark.parametrize(
    ("operation", "factory", "is_async", "log"),
    [
        (operate, Sync, False, ["create", "operate Sync", "close"]),
        (operate, Stoppable, False, ["operate Stoppable", "stop"]),
        (aoperate, Async, True, ["create", "aoperate Async", "aclose"]),
        (operate, amake, True, ["create", "operate Async", "aclose"]),
        (aoperate, Sync, True, ["create", "aoperate Sync", "close"]),
    ],
)
def test_one_call_is_one_life(operation: Any, factory: Any, is_async: bool, log: list[str]) -> None:
    call = component_operation(operation, factory)
    assert is_async_callable(call) is is_async
    assert call.__qualname__ == operation.__qualname__  # reports name the operation
    run(call)
    assert log == LOG


def test_without_a_factory_the_operation_is_called_as_is() -> None:
    assert component_operation(operate) is operate


def test_the_component_is_closed_when_the_operation_raises() -> None:
    with pytest.raises(ValueError, match="boom"):
        component_operation(failing, Sync)()
    assert LOG == ["create", "close"]


def test_sync_calls_keeps_one_loop_for_the_block() -> None:
    loops: set[int] = set()

    async def where() -> None:
        loops.add(id(asyncio.get_running_loop()))

    with sync_calls(where) as call:
        assert not is_async_callable(call)
        for _ in range(3):
            call()
    assert len(loops) == 1
    with sync_calls(operate) as same:  # type: ignore[arg-type]  # a plain function is handed back as it is
        assert same is operate

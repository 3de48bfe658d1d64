import gc

from apiforge.kit.heap import freeze_startup_heap
from tests.kit.apps import kit_app, serve


async def test_the_startup_heap_is_frozen_once_the_app_is_up(sqlite_url: str) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    async with serve(kit_app(sqlite_url)) as client:
        assert (await client.get("/health/live")).status_code == 200
        assert gc.get_freeze_count() > 0
    gc.unfreeze()


async def test_freeze_moves_objects_to_the_permanent_generation() -> None:
    gc.unfreeze()
    await freeze_startup_heap(None)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()

"""Product import and export. The import validates the whole body before writing anything,
then writes in one burst (a SQLite writer holds the database lock only for the writes); any
bad row means nothing is written. The export streams on its own read session, because the
request's session has committed and closed before the response body starts."""

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import CacheBackend, Database, after_commit, format_minor
from apiforge.shop.catalog.bulk.repository import AnyRow, BulkProductRepository
from apiforge.shop.catalog.bulk.rows import MAX_ERRORS, ImportRow, read_rows, row_error
from apiforge.shop.catalog.errors import ImportCategoriesUnknownError
from apiforge.shop.catalog.schemas import ExportFormat, ImportResult
from apiforge.shop.catalog.service import CATALOG_TAG

MAX_ROWS = 100_000
CSV_HEADER = ("id", "name", "description", "price", "stock", "category_id", "created_at")
MEDIA_TYPES = {ExportFormat.NDJSON: "application/x-ndjson", ExportFormat.CSV: "text/csv"}


class ProductImporter:
    def __init__(
        self,
        session: AsyncSession,
        *,
        cache: CacheBackend | None = None,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.session = session
        self.cache = cache
        self.products = BulkProductRepository(session)
        self.max_rows = max_rows

    async def run(self, content_type: str, body: AsyncIterator[bytes]) -> ImportResult:
        """Import a JSON array or NDJSON body of `ProductCreate` objects, all or nothing. 422
        names the lines of invalid rows and of rows with an unknown category."""
        rows = await read_rows(content_type, body, self.max_rows)
        await self._check_categories(rows)
        await self.products.insert(rows)
        cache = self.cache
        if cache is not None and rows:
            # New products change listing pages: drop cached catalog reads once committed.
            after_commit(self.session, lambda: cache.invalidate_tags(CATALOG_TAG))
        return ImportResult(imported=len(rows))

    async def _check_categories(self, rows: Sequence[ImportRow]) -> None:
        lines: defaultdict[int, list[int]] = defaultdict(list)
        for row in rows:
            lines[row.category_id].append(row.line)
        unknown = set(lines) - await self.products.existing_category_ids(set(lines))
        if not unknown:
            return
        bad_lines = sorted(line for category_id in unknown for line in lines[category_id])
        errors = [
            row_error(line, ("category_id",), "category does not exist", "category_not_found")
            for line in bad_lines[:MAX_ERRORS]
        ]
        raise ImportCategoriesUnknownError(errors)


def _ndjson(rows: Sequence[AnyRow]) -> bytes:
    dumps, option = orjson.dumps, orjson.OPT_UTC_Z
    return b"".join(
        dumps(
            {
                "id": row.id,
                "name": row.name,
                "description": row.description,
                "price": format_minor(row.price_minor),
                "stock": row.stock,
                "category_id": row.category_id,
                "created_at": row.created_at,
            },
            option=option | orjson.OPT_APPEND_NEWLINE,
        )
        for row in rows
    )


class _CsvRenderer:
    """CSV through a small reused text buffer: one batch of rows at a time."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def header(self) -> bytes:
        self.writer.writerow(CSV_HEADER)
        return self._drain()

    def __call__(self, rows: Sequence[AnyRow]) -> bytes:
        self.writer.writerows(
            (
                row.id,
                row.name,
                row.description,
                format_minor(row.price_minor),
                row.stock,
                row.category_id,
                row.created_at.isoformat().replace("+00:00", "Z"),
            )
            for row in rows
        )
        return self._drain()

    def _drain(self) -> bytes:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.encode()


class ProductExporter:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def stream(self, export_format: ExportFormat) -> AsyncIterator[bytes]:
        """Live products by id, one chunk per cursor batch, on a read session of its own that
        lives as long as the stream."""
        render: Callable[[Sequence[AnyRow]], bytes] = _ndjson
        if export_format is ExportFormat.CSV:
            csv_renderer = _CsvRenderer()
            render = csv_renderer
            yield csv_renderer.header()
        async with self.database.snapshot_session() as session:
            async for rows in BulkProductRepository(session).stream_live():
                yield render(rows)

"""`apiforge db upgrade` and `apiforge db seed`."""

import asyncio
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from apiforge.cli.settings import load_settings
from apiforge.kit.db.migrations import upgrade_sync
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.seed import DEFAULT_PRODUCTS, DEMO_USERS, SeedRefusedError, seed_demo

db_app = typer.Typer(help="Database: migrations and demo data.", no_args_is_help=True)


@db_app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the shop's migrations."""
    settings = load_settings()
    upgrade_sync(MIGRATIONS_DIR, settings.database_url, revision)
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    typer.echo(f"Migrated {where} to {revision}.")


@db_app.command()
def seed(
    products: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Products wanted in the catalog.")
    ] = DEFAULT_PRODUCTS,
) -> None:
    """Load demo data (development only; running it again changes nothing)."""
    settings = load_settings()
    try:
        report = asyncio.run(seed_demo(settings, products=products))
    except SeedRefusedError as exc:
        typer.echo(f"apiforge: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(
            f"apiforge: database error ({exc.orig}); is it migrated (apiforge db upgrade)?",
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo(
        f"Seeded: {report.categories_created} new categories, "
        f"{report.products_created} new products ({report.products_total} in all), "
        f"{report.users_created} new users."
    )
    password = settings.demo_password.get_secret_value()
    for email, role in DEMO_USERS:
        typer.echo(f"Demo login ({role}): {email} / {password}")

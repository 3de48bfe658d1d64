"""Memberships SQL on both databases: every statement stays in its organization."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import TenantScope
from apiforge.shop.organizations.repository import MembershipRepository, OrganizationRepository
from apiforge.shop.roles import OrgRole
from tests.factories import create_user


async def test_set_role_changes_that_members_role_only(app: FastAPI, session: AsyncSession) -> None:
    # The update once took its SET clause from the parameters, `user_id` among them (a 500
    # on every role change: the name was also the WHERE clause's).
    alice = await create_user(app, session, email="alice@example.com")
    bob = await create_user(app, session, email="bob@example.com")
    organizations = OrganizationRepository(session)
    first, second = (await organizations.add("First")).id, (await organizations.add("Second")).id
    here, there = (MembershipRepository(session, TenantScope(o)) for o in (first, second))
    for members in (here, there):
        await members.add(alice.id, OrgRole.VIEWER)
        await members.add(bob.id, OrgRole.VIEWER)

    await here.set_role(alice.id, OrgRole.BUYER)

    assert await here.role_of(alice.id) == OrgRole.BUYER
    assert (await here.role_of(bob.id), await there.role_of(alice.id)) == (OrgRole.VIEWER,) * 2

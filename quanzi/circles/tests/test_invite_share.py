"""A circle invitation is a share link: opening it is a share visit, the share tree grows
through it, and joining through it pays no one."""

from __future__ import annotations

import pytest

from quanzi.circles.models import Membership
from quanzi.distribution.models import Commission
from quanzi.ledger.models import JournalEntry as Entry
from quanzi.social.models import ShareLink, ShareVisit


def _login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("levels", [1, 2])
def test_an_invitation_is_a_share_link_and_joining_through_it_pays_no_one(
    make_user, make_circle, client, dist_settings, levels
):
    from quanzi.marketing.models import PointsTxn

    dist_settings(levels=levels, enabled=True)
    circle = make_circle(join_policy="invite")
    owner = circle.owner
    from conftest import Api
    from quanzi.accounts.services import token_issue

    invite = Api(token_issue(user=owner)).post(f"/circles/{circle.pk}/invites").json()
    link = ShareLink.objects.get(token=invite["token"])
    assert invite["url"] == f"/s/{link.token}"
    assert (link.target, link.target_id, link.sharer_id, link.channel) == (
        "circle",
        circle.pk,
        owner.pk,
        "invite",
    )
    # The same member asking again gets the same link.
    assert Api(token_issue(user=owner)).post(f"/circles/{circle.pk}/invites").json() == invite

    entries, points = Entry.objects.count(), PointsTxn.objects.count()
    friend = make_user()
    opened = _login(client, friend).get(invite["url"])
    assert opened.status_code == 302
    assert opened["Location"] == f"/circles/{circle.pk}/?invite={link.token}"
    assert ShareVisit.objects.filter(link=link, visitor=friend).exists()
    page = client.get(opened["Location"]).content.decode()
    assert f'value="{link.token}"' in page  # the join form carries the token
    client.post(f"/circles/{circle.pk}/join", {"invite": link.token})
    member = Membership.objects.get(circle=circle, user=friend)
    assert member.status == "member" and member.invited_by == owner

    # The friend's own invitation hangs below the owner's in the share tree.
    theirs = ShareLink.objects.get(
        token=friend.api.post(f"/circles/{circle.pk}/invites").json()["token"]
    )
    assert (theirs.parent_id, theirs.root_id, theirs.depth) == (link.pk, link.pk, 2)
    newcomer = make_user()
    _login(client, newcomer).get(f"/s/{theirs.token}")
    client.post(f"/circles/{circle.pk}/join", {"invite": theirs.token})
    assert Membership.objects.get(circle=circle, user=newcomer).invited_by == friend

    # Joining — through a chain of invitations — paid no one, in any configuration.
    assert Entry.objects.count() == entries
    assert not Commission.objects.exists()
    assert PointsTxn.objects.count() == points


def test_a_suspended_circle_cannot_be_shared(make_circle, operator):
    from quanzi.core.errors import NotFound
    from quanzi.social.services import share_create

    circle = make_circle()
    operator.api.post(f"/admin/circles/{circle.pk}/suspend", {"reason": "整改"})
    with pytest.raises(NotFound):
        share_create(sharer=circle.owner, target="circle", target_id=circle.pk)

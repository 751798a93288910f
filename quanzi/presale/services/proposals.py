"""Proposals (共创): a person proposes a product or a variant, others vote, the operator
decides. A vote is one row per person and proposal; the proposal's ``votes`` counter moves
only when a row was really inserted or deleted, in the same transaction, by a conditional
``UPDATE`` (so it stays exact however many people vote at once)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.catalog.models import Product
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.moderation import text_require_publishable
from quanzi.core.sql import insert_once
from quanzi.presale.models import Proposal, ProposalStatus, Vote

log = get_logger("quanzi.presale")

VOTABLE = (ProposalStatus.OPEN, ProposalStatus.ACCEPTED)


def proposal_create(*, user, kind: str, title: str, body: str = "", product_id=None) -> Proposal:
    title, body = (title or "").strip(), (body or "").strip()
    if kind not in Proposal.KINDS:
        raise Invalid("invalid_proposal", "kind is product or variant", {"field": "kind"})
    if not title:
        raise Invalid("invalid_proposal", "a proposal needs a title", {"field": "title"})
    product = None
    if kind == "variant":
        product = Product.objects.filter(pk=product_id, is_active=True).first()
        if product is None:
            raise NotFound("product_not_found", "no such product")
    verdict = text_require_publishable(f"{title}\n{body}", kind="other", user_id=user.pk)
    proposal = Proposal.objects.create(
        author=user,
        kind=kind,
        product=product,
        title=title[:80],
        body=body[:2000],
        status=ProposalStatus.HELD if verdict.held else ProposalStatus.OPEN,
        moderation_reasons=list(verdict.reasons),
    )
    log.info("proposal created", extra={"proposal_id": proposal.pk, "status": proposal.status})
    return proposal


def _votable(proposal_id: int) -> Proposal:
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None or proposal.status in (ProposalStatus.HELD, ProposalStatus.REJECTED):
        raise NotFound("proposal_not_found", "no such proposal")
    if proposal.status not in VOTABLE:
        raise Conflict("voting_closed", "voting on this proposal has closed")
    return proposal


def vote_cast(*, user, proposal_id: int) -> int:
    """Vote (again: nothing changes). Returns the proposal's count."""
    with transaction.atomic():
        proposal = _votable(proposal_id)
        vote = Vote(proposal=proposal, user=user, key=f"{proposal.pk}:{user.pk}")
        if insert_once(vote, unique="key"):
            Proposal.objects.filter(pk=proposal.pk).update(votes=F("votes") + 1)
        return Proposal.objects.values_list("votes", flat=True).get(pk=proposal.pk)


def vote_withdraw(*, user, proposal_id: int) -> int:
    """Take one's vote back (no vote: nothing changes). Returns the proposal's count."""
    with transaction.atomic():
        proposal = _votable(proposal_id)
        deleted, _ = Vote.objects.filter(key=f"{proposal.pk}:{user.pk}").delete()
        if deleted:
            Proposal.objects.filter(pk=proposal.pk).update(votes=F("votes") - 1)
        return Proposal.objects.values_list("votes", flat=True).get(pk=proposal.pk)


def proposal_decide(*, proposal_id: int, decision: str) -> Proposal:
    """The operator accepts, rejects, or publishes a held proposal (``publish``)."""
    targets = {
        "accept": ProposalStatus.ACCEPTED,
        "reject": ProposalStatus.REJECTED,
        "publish": ProposalStatus.OPEN,
    }
    if decision not in targets:
        raise Invalid("invalid_decision", "accept, reject or publish", {"field": "decision"})
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
        if proposal is None:
            raise NotFound("proposal_not_found", "no such proposal")
        if proposal.status == ProposalStatus.PRESALE:
            raise Conflict("proposal_decided", "this proposal is already a pre-sale")
        if decision == "publish" and proposal.status != ProposalStatus.HELD:
            raise Conflict("proposal_decided", "only a held proposal is published")
        proposal.status = targets[decision]
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_at"])
        return proposal

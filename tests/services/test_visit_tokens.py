"""Tracking tokens: genuine ones read back, forged or garbled ones never do."""

from __future__ import annotations

import pytest

from ringtrail.services.visit_tokens import BadToken, TokenSigner, VisitClaim

signer = TokenSigner("secret-one")


def test_a_visitor_token_reads_back_its_id() -> None:
    public_id = signer.new_visitor_id()
    assert signer.read_visitor_token(signer.visitor_token(public_id)) == public_id


@pytest.mark.parametrize(
    "token",
    [
        "",
        "no-dot",
        "abcdefghijklmnopqrstuv.forged",
        "short.sig",
        "x" * 500,
        TokenSigner("another-secret").visitor_token("abcdefghijklmnopqrstuv"),
    ],
)
def test_a_forged_or_garbled_visitor_token_is_rejected(token: str) -> None:
    with pytest.raises(BadToken):
        signer.read_visitor_token(token)


def test_a_visit_token_carries_its_claim_and_cannot_be_altered() -> None:
    claim = VisitClaim(project_id=3, visit_id=41, visitor_id=7, pool_id=2)
    token = signer.visit_token(claim)
    assert signer.read_visit_token(token) == claim
    tampered = token.replace("3.41.7.2", "3.41.8.2")
    with pytest.raises(BadToken):
        signer.read_visit_token(tampered)
    with pytest.raises(BadToken):
        signer.read_visit_token("3.41.7.²." + token.rsplit(".", 1)[1])


def test_a_visitor_token_is_not_a_visit_token() -> None:
    with pytest.raises(BadToken):
        signer.read_visit_token(signer.visitor_token(signer.new_visitor_id()))

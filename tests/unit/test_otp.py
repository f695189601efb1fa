"""Sign-in codes (accounts/otp.py): bound to the session that asked, single use, a
lifetime and a number of tries; operator codes bound to none. A controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts import otp
from accounts.models import OneTimeCode
from accounts.otp import Verdict

pytestmark = pytest.mark.django_db

ADMIN = "session-of-the-admin"
OTHER = "session-of-someone-else"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.OTP_TTL_SECONDS = 300
    settings.OTP_MAX_ATTEMPTS = 3


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_is_six_digits_and_only_its_hash_is_stored(clock):
    code = otp.issue_code(ADMIN)
    assert len(code) == 6 and code.isdigit()
    row = OneTimeCode.objects.get()
    assert code not in row.code_hash and ADMIN not in row.owner
    assert row.owner == otp.owner_of(ADMIN) != otp.owner_of(OTHER)
    assert row.expires_at == clock.now + timedelta(seconds=300)
    assert row.attempts == 0


def test_the_right_code_signs_in_once(clock):
    code = otp.issue_code(ADMIN)
    assert otp.verify_code(ADMIN, code) is Verdict.OK
    assert OneTimeCode.objects.count() == 0
    assert otp.verify_code(ADMIN, code) is Verdict.NOT_REQUESTED


def test_a_code_works_only_for_the_session_that_asked(clock):
    code = otp.issue_code(ADMIN)
    assert otp.verify_code(OTHER, code) is Verdict.NOT_REQUESTED
    assert otp.verify_code(None, code) is Verdict.NOT_REQUESTED
    assert otp.verify_code("", code) is Verdict.NOT_REQUESTED
    # ...and another browser's guesses spend none of the admin's tries.
    assert OneTimeCode.objects.get().attempts == 0
    assert otp.verify_code(ADMIN, code) is Verdict.OK


def test_a_new_request_replaces_the_sessions_code(clock):
    first = otp.issue_code(ADMIN)
    second = otp.issue_code(ADMIN)
    assert OneTimeCode.objects.count() == 1
    if first != second:
        assert otp.verify_code(ADMIN, first) is Verdict.WRONG
    assert otp.verify_code(ADMIN, second) is Verdict.OK


def test_codes_of_two_sessions_are_independent(clock):
    mine = otp.issue_code(ADMIN)
    theirs = otp.issue_code(OTHER)
    assert OneTimeCode.objects.count() == 2
    if mine != theirs:
        assert otp.verify_code(ADMIN, theirs) is Verdict.WRONG
    assert otp.verify_code(OTHER, theirs) is Verdict.OK
    assert otp.verify_code(ADMIN, mine) is Verdict.OK


def test_a_code_expires(clock):
    code = otp.issue_code(ADMIN)
    clock.advance(299)
    assert otp.has_code(ADMIN) is True
    clock.advance(1)  # expires_at itself is too late
    assert otp.verify_code(ADMIN, code) is Verdict.EXPIRED
    assert OneTimeCode.objects.count() == 0
    assert otp.verify_code(ADMIN, code) is Verdict.NOT_REQUESTED


def test_a_code_works_until_it_expires(clock):
    code = otp.issue_code(ADMIN)
    clock.advance(299.999)
    assert otp.verify_code(ADMIN, code) is Verdict.OK


def test_wrong_guesses_use_up_the_tries(clock):
    code = otp.issue_code(ADMIN)
    assert otp.verify_code(ADMIN, wrong(code)) is Verdict.WRONG
    assert otp.verify_code(ADMIN, wrong(code)) is Verdict.WRONG
    assert OneTimeCode.objects.get().attempts == 2
    # The last allowed try says so.
    assert otp.verify_code(ADMIN, wrong(code)) is Verdict.TOO_MANY_ATTEMPTS
    assert OneTimeCode.objects.get().attempts == 3
    # Even the right code is refused now, and nothing is counted any more.
    assert otp.verify_code(ADMIN, code) is Verdict.TOO_MANY_ATTEMPTS
    assert OneTimeCode.objects.get().attempts == 3


def test_one_wrong_guess_then_the_right_one(clock):
    code = otp.issue_code(ADMIN)
    assert otp.verify_code(ADMIN, wrong(code)) is Verdict.WRONG
    assert otp.verify_code(ADMIN, code) is Verdict.OK


def test_without_a_code_every_guess_is_not_requested(clock):
    assert otp.verify_code(ADMIN, "123456") is Verdict.NOT_REQUESTED
    assert otp.has_code(ADMIN) is False
    assert otp.has_code(None) is False


def test_a_withdrawn_code_never_works(clock):
    code = otp.issue_code(ADMIN)
    otp.withdraw_code(ADMIN)
    assert otp.has_code(ADMIN) is False
    assert otp.verify_code(ADMIN, code) is Verdict.NOT_REQUESTED


def test_the_codes_telegram_message_is_remembered_for_its_session_only(clock):
    code = otp.issue_code(ADMIN)
    otp.issue_code(OTHER)
    otp.remember_message(ADMIN, -1001234, 77)
    where = dict(OneTimeCode.objects.values_list("owner", "telegram_message_id"))
    assert where == {otp.owner_of(ADMIN): 77, otp.owner_of(OTHER): None}
    assert otp.pending_code(ADMIN).telegram_chat_id == -1001234
    # Signing in says where that message is, so it can be edited.
    verdict, used = otp.verify(ADMIN, code)
    assert verdict is Verdict.OK and (used.telegram_chat_id, used.telegram_message_id) == (-1001234, 77)


def test_an_operator_code_works_once_for_any_session(clock):
    code = otp.issue_operator_code()
    row = OneTimeCode.objects.get()
    assert row.owner is None and row.expires_at == clock.now + timedelta(seconds=300)
    assert otp.verify_code(None, code) is Verdict.OK
    assert otp.verify_code(OTHER, code) is Verdict.NOT_REQUESTED
    assert OneTimeCode.objects.count() == 0


def test_signing_in_with_an_operator_code_ends_the_sessions_own_code(clock):
    own = otp.issue_code(ADMIN)
    operator = otp.issue_operator_code()
    if own != operator:
        assert otp.verify_code(ADMIN, operator) is Verdict.OK
        # The session's own code went with it: a sign-in ends the session's pending code.
        assert list(OneTimeCode.objects.all()) == []


def test_wrong_guesses_spend_operator_codes_too(clock):
    code = otp.issue_operator_code()
    for _ in range(3):
        assert otp.verify_code(OTHER, wrong(code)) is Verdict.NOT_REQUESTED
    assert OneTimeCode.objects.get().attempts == 3
    assert otp.verify_code(OTHER, code) is Verdict.NOT_REQUESTED  # used up
    assert OneTimeCode.objects.get().attempts == 3


def test_an_expired_operator_code_does_not_work(clock):
    code = otp.issue_operator_code()
    clock.advance(300)
    assert otp.verify_code(None, code) is Verdict.NOT_REQUESTED


def test_only_the_newest_operator_codes_are_compared(clock):
    oldest = otp.issue_operator_code()
    for _ in range(otp.MAX_OPERATOR_CODES):
        clock.advance(1)
        otp.issue_operator_code()
    newest_codes = OneTimeCode.objects.order_by("-created_at")[: otp.MAX_OPERATOR_CODES]
    assert len(newest_codes) == otp.MAX_OPERATOR_CODES
    # The oldest is not among the ones a guess is compared with (unless a newer one has
    # the same six digits).
    if otp._digest(oldest, "otp") not in {c.code_hash for c in newest_codes}:
        assert otp.verify_code(None, oldest) is Verdict.NOT_REQUESTED


def test_issuing_prunes_codes_expired_an_hour_ago(clock):
    otp.issue_code(OTHER)
    otp.issue_operator_code()
    clock.advance(300 + 3600 - 1)
    otp.issue_code(ADMIN)
    assert OneTimeCode.objects.count() == 3
    clock.advance(2)
    otp.issue_operator_code()
    assert sorted(str(c.owner is None) for c in OneTimeCode.objects.all()) == ["False", "True"]
    assert otp.has_code(OTHER) is False and otp.has_code(ADMIN) is True

"""The code message's buttons and approvals (accounts/otp.py, issue 13): who a code signs
in, "Approve" bound to the waiting session, single use, within the code's lifetime; and
agents found by @username or name. A controlled clock."""

from __future__ import annotations

import pytest

from accounts import agents, otp
from accounts.models import Agent, OneTimeCode

pytestmark = pytest.mark.django_db

BROWSER = "session-of-the-waiting-browser"
OTHER = "session-of-someone-else"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.OTP_TTL_SECONDS = 300
    settings.OTP_MAX_ATTEMPTS = 3


def ref_of(session_key: str) -> str:
    return otp.pending_code(session_key).ref


def test_sign_in_as_me_makes_the_code_the_pressers(clock):
    ayse = Agent.objects.create(name="Ayşe")
    code = otp.issue_code(BROWSER)
    result, row = otp.press(ref_of(BROWSER), ayse, approve=False)
    assert result is otp.Press.CLAIMED and row.agent_id == ayse.pk
    assert otp.take_approval(BROWSER) is None  # claimed, not approved
    verdict, used = otp.verify(BROWSER, code)
    assert verdict is otp.Verdict.OK and used.agent_id == ayse.pk


def test_a_claimed_code_stays_with_its_agent(clock):
    ayse, mert = Agent.objects.create(name="Ayşe"), Agent.objects.create(name="Mert")
    otp.issue_code(BROWSER)
    otp.press(ref_of(BROWSER), ayse, approve=False)
    result, row = otp.press(ref_of(BROWSER), mert, approve=True)
    assert result is otp.Press.TAKEN and row.agent_id == ayse.pk and row.approved_at is None
    assert otp.take_approval(BROWSER) is None
    # Her own Approve goes through.
    assert otp.press(ref_of(BROWSER), ayse, approve=True)[0] is otp.Press.APPROVED


def test_an_approval_is_for_the_waiting_session_only_and_used_once(clock):
    deniz = Agent.objects.create(name="Deniz")
    otp.issue_code(BROWSER)
    otp.issue_code(OTHER)
    assert otp.press(ref_of(BROWSER), deniz, approve=True)[0] is otp.Press.APPROVED
    assert otp.take_approval(OTHER) is None
    assert otp.take_approval(None) is None
    used = otp.take_approval(BROWSER)
    assert used is not None and used.agent == deniz
    assert otp.take_approval(BROWSER) is None
    assert not otp.has_code(BROWSER) and otp.has_code(OTHER)


def test_an_approval_ends_with_the_codes_lifetime(clock):
    deniz = Agent.objects.create(name="Deniz")
    otp.issue_code(BROWSER)
    ref = ref_of(BROWSER)
    otp.press(ref, deniz, approve=True)
    clock.advance(301)
    assert otp.take_approval(BROWSER) is None
    assert otp.press(ref, deniz, approve=True)[0] is otp.Press.GONE


def test_a_new_request_makes_the_old_buttons_stale(clock):
    deniz = Agent.objects.create(name="Deniz")
    otp.issue_code(BROWSER)
    old = ref_of(BROWSER)
    otp.issue_code(BROWSER)
    assert ref_of(BROWSER) != old
    assert otp.press(old, deniz, approve=True)[0] is otp.Press.GONE
    assert otp.take_approval(BROWSER) is None


def test_a_code_whose_tries_are_used_up_cannot_be_pressed(clock):
    deniz = Agent.objects.create(name="Deniz")
    code = otp.issue_code(BROWSER)
    ref = ref_of(BROWSER)
    for _ in range(3):
        assert otp.verify(BROWSER, f"{(int(code) + 1) % 1_000_000:06d}")[0] is not otp.Verdict.OK
    assert otp.press(ref, deniz, approve=True) == (otp.Press.GONE, None)
    assert otp.take_approval(BROWSER) is None


def test_an_operator_code_for_an_agent_signs_in_as_them_and_has_its_own_buttons(clock):
    deniz = Agent.objects.create(name="Deniz")
    code = otp.issue_operator_code(deniz)
    otp.issue_operator_code()
    refs = [ref for (ref,) in OneTimeCode.objects.values_list("ref")]
    assert None not in refs and len(set(refs)) == 2
    verdict, used = otp.verify(BROWSER, code)
    assert verdict is otp.Verdict.OK and used.agent_id == deniz.pk


def test_an_operator_code_cannot_be_approved(clock):
    deniz = Agent.objects.create(name="Deniz")
    code = otp.issue_operator_code()
    ref = OneTimeCode.objects.get(owner__isnull=True).ref
    assert otp.press(ref, deniz, approve=True)[0] is otp.Press.CLAIMED
    verdict, used = otp.verify(BROWSER, code)
    assert verdict is otp.Verdict.OK and used.agent_id == deniz.pk


def test_agents_by_username_name_and_telegram_user():
    ayse = agents.for_telegram_user({"id": 5, "first_name": "Ayşe", "last_name": "Kaya", "username": "ayse"})
    assert (ayse.name, ayse.telegram_user_id, ayse.telegram_username) == ("Ayşe Kaya", 5, "ayse")
    # The same user again: the same agent, username kept current.
    again = agents.for_telegram_user({"id": 5, "first_name": "Someone", "username": "ayse_k"})
    assert again.pk == ayse.pk and again.name == "Ayşe Kaya" and again.telegram_username == "ayse_k"
    assert agents.find("@AYSE_K") == again
    assert agents.find("ayşe kaya") == again
    assert agents.find("@ayse") is None and agents.find("") is None
    Agent.objects.create(name="Ayşe Kaya")
    assert agents.find("Ayşe Kaya") is None  # two share the name: ambiguous
    again.is_active = False
    again.save()
    assert agents.find("@ayse_k") is None
    assert agents.telegram_name({"id": 9, "username": "x"}) == "@x"
    assert agents.telegram_name({"id": 9}) == "Telegram 9"
    assert agents.default_agent() == agents.default_agent()

"""bench/profile_owners.py: the split of a profile by owner that bench/README.md quotes."""

from bench import profile_owners

LOOP = "run (twisted/internet/asyncioreactor.py:257);_run_once (asyncio/base_events.py:1922)"
STORE = (
    "_call (chat/realtime/db_worker.py:54);_store_group (chat/services.py:380);execute (psycopg/cursor.py:97)"
)


def test_each_sample_goes_to_the_owner_of_its_innermost_frame(tmp_path, capsys):
    (tmp_path / "pg-8001-fixed.txt").write_text(
        f"{LOOP} 6\n{STORE} 3\nmessage_to_admin (chat/realtime/handlers.py:88) 1\n"
    )
    (tmp_path / "pg-8002-fixed.txt").write_text(f"{STORE} 2\n")

    profile_owners.main([str(tmp_path), "--cpu", "pg=1.2"])

    out = capsys.readouterr().out
    assert "pg: 12 samples in 2 process(es)" in out
    assert " 50.0%  asyncio and threads  0.600 ms/message" in out
    assert " 41.7%  database: psycopg  0.500 ms/message" in out
    assert "  8.3%  chatdesk  0.100 ms/message" in out


def test_frames_with_absolute_paths_are_owned_alike():
    assert profile_owners.owner("hit (/work/main/chatdesk/ratelimit.py:40)") == "chatdesk"
    assert (
        profile_owners.owner("execute (/x/site-packages/django/db/backends/utils.py:9)") == "database: Django"
    )
    assert (
        profile_owners.owner("dataReceived (/x/site-packages/autobahn/websocket/protocol.py:1)")
        == "socket stack"
    )
    assert profile_owners.owner("<module> (<frozen runpy>:198)").startswith("other")

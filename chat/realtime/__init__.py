"""The Socket.IO edge of the chat, kept thin: it validates, calls `chat.services`, answers.

`server` (the process's AsyncServer, built at start-up), `handlers` and the other
`*_handlers` modules (the events), `identity` (who a socket is), `publishing`
(delivering events from any thread or process), `db_worker` (ORM calls off the loop),
`connection_counts`, `panel_sockets`, `presence`.
"""

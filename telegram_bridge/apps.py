from django.apps import AppConfig


class TelegramBridgeConfig(AppConfig):
    name = "telegram_bridge"
    verbose_name = "Telegram bridge"

    def ready(self) -> None:
        from accounts.signin import code_used

        from . import card, otp, outbox, visitor_link

        # The control card's receivers first: a thread's card is queued ahead of its message.
        card.connect()
        outbox.connect()
        # Agents' replies also go to a visitor who continues in Telegram (issue 14).
        visitor_link.connect()
        # The sign-in code's message says who signed in (issue 13).
        code_used.connect(otp.on_code_used, dispatch_uid="telegram_code_used")

"""Haven on Telegram, through python-telegram-bot."""

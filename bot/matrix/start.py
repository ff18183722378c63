"""Matrix wired into `onevoice run`: connected, attached, the configured rooms joined, and syncing (bot/run.py)."""

from contextlib import AsyncExitStack

from bot.app import OneVoice
from bot.matrix.client import alive, connect, make_client
from bot.matrix.delivery import MatrixAdapter
from bot.matrix.front import MatrixFront
from bot.matrix.rooms import Rooms
from bot.matrix.sync import MatrixSyncer
from bot.readiness import Readiness
from config.settings import Settings


async def start_matrix(bot: OneVoice, settings: Settings, stack: AsyncExitStack, readiness: Readiness, on_work) -> MatrixSyncer:
    """Connect (NotConnected says why not), attach the adapter, join the configured rooms and start the sync loop."""
    client = make_client(settings.matrix_homeserver or "", settings.matrix_user_id or "", settings.matrix_sync_timeout_ms / 1000)
    stack.push_async_callback(client.close)
    token, password = (s.get_secret_value() if s else None for s in (settings.matrix_access_token, settings.matrix_password))
    await connect(client, token, password)
    rooms = Rooms(client, bot.engine, client.user_id)
    await rooms.load()
    bot.attach(MatrixAdapter(client, bot.config, rooms))
    readiness.platforms["matrix"] = lambda: alive(client)
    front = MatrixFront(bot, client, rooms, on_work=on_work)
    await front.join_configured()
    syncer = MatrixSyncer(client, front, bot.engine, settings.matrix_sync_timeout_ms)
    await syncer.start()
    return syncer

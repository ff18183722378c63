"""Matrix (PRODUCT.md §12, issue 20): the third chat platform, on matrix-nio, without end-to-end encryption.

Why matrix-nio: asyncio on aiohttp like our Slack and Telegram clients, typed responses (`ErrorResponse` with
`status_code` and `retry_after_ms`) instead of exceptions, a plain `room_send`/`room_put_state`/`sync` surface and
no database or crypto store of its own unless asked (we keep state in ours). mautrix is as well kept but brings its
own state store and bridge framework we would have to keep out of the way. The E2E extra (`matrix-nio[e2e]`,
libolm) is NOT installed: encrypted rooms are not supported; the bot creates its rooms unencrypted.

The contract with the end-to-end harness (tests/e2e/matrix/, tests/fakes/synapse*.py):

Environment of `onevoice run`
  MATRIX_HOMESERVER     the client-server base address, e.g. http://127.0.0.1:8008
  MATRIX_USER_ID        the bot's full user id, e.g. @onevoice:localhost
  MATRIX_ACCESS_TOKEN   its access token, or instead
  MATRIX_PASSWORD       its password (the bot logs in once at start, device name "OneVoice")
  ONEVOICE_MATRIX_SYNC_TIMEOUT_MS   optional: the long-poll of /sync (default 30000; tests may use ~1000)

Configuration (onevoice.yaml)
  matrix:
    space: "!spaceid:localhost"          # or "#alias:localhost"; incident rooms are created in it
    crisis_room: "!roomid:localhost"     # or "#alias:localhost"; where `!crisis declare` is typed
  team.people.<key>.matrix: "@alice:localhost"        # people are matched by Matrix user id
  broadcast: [{name: matrix-public, matrix: "!roomid:localhost"}]   # a publish target (plain body, exact text)
  triage_room / stakeholder_rooms entries may carry `matrix: "!roomid:localhost"` like `slack:`.

What the harness must arrange
  - The bot user exists (registered by shared secret); the space and the crisis room exist, the bot is joined to
    both or invited (it joins the configured ones at start, and accepts invites only to them or DMs from team
    members) and has power level >= 50 in the space (it sends `m.space.child` there); simplest: the bot creates
    them, or they are created with `power_level_content_override: {users: {<bot>: 100}}`.
  - Rooms must not be encrypted.
  - `onevoice run` prints its "OneVoice running: … · Matrix (sync)" line only after the first /sync succeeded; a
    command sent after that line is seen. On the very first start (no stored sync token) the backlog before it is
    skipped; after that the token is stored in the database (table `matrix_sync`) once a batch is decided, so a
    restart resumes exactly where it left off.

Behaviour
  - Commands: an `m.text` message whose body starts with `!crisis ` (e.g. `!crisis declare outage sev2 …`), in the
    crisis room, the triage room (its posts show commands to type), an incident room or a DM with the bot (in a DM the
    prefix may be left out); in any other room the bot says nothing and does nothing. The bot's own messages and edits
    (`m.replace`) are ignored; event ids are de-duplicated. Answers are notices (`m.notice`): in the room the command
    came from, except private answers and a member's refusals, which go to their DM with the bot (as on Telegram).
    Mentions: `@key`, a full Matrix id (a sentence's final dot after it is not part of it), or a pill.
  - An unknown sender is refused in the room they wrote in by one short `m.notice` naming their user id and nothing
    about the setup, a few a minute at most per sender and per room.
  - A command whose commit lost its acknowledgement (bot/outbox/unsettled.py): its own answer if it landed, "nothing
    was changed" if not, and while the database cannot say, the sync token does not move past it.
  - Invitations: joined only to the configured rooms (space, crisis room, triage/stakeholder rooms, broadcast
    targets) and to direct chats (`is_direct`) from team members; any other invitation is left unanswered (it
    stays "invite").
  - Incident rooms: created in the space (`m.space.child` in the space, `m.space.parent` in the room), named like
    the Slack channel (`drill-` marked for drills), responders invited; the card and the approved line are sent once,
    pinned (`m.room.pinned_events`) and later edited in place (`m.relates_to: {rel_type: m.replace}` +
    `m.new_content`).
  - Messages: `format: org.matrix.custom.html` with `formatted_body` (user text escaped) and a plain `body`; no
    buttons, the commands to type are shown; team members mentioned as https://matrix.to/#/@user pills.
  - Publish to a Matrix target: `msgtype: m.text`, `body` exactly the approved text, no `format`, `m.mentions: {}`
    (an "@room" in the text pings nobody).
  - `M_LIMIT_EXCEEDED` (429) with `retry_after_ms`: up to 10 s is waited inside the call (and by every later call of
    the bot, so a burst is paced); longer goes back to the outbox with that delay. Invites are sent one by one, after
    the duty DMs: wait for each person's invite, not only the first.
  - Room version 12 ids (no `:server` part) are accepted everywhere an id is.
"""

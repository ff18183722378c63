"""Matrix markup: what a Matrix client shows. User text is escaped in the HTML and exact in the plain body (CJK, emoji,
`<b>&`); the buttons become commands to type; team members become pills; a publication is the approved text alone."""

from html.parser import HTMLParser

from bot.matrix.front import command_text, readable
from bot.matrix.render import content, exact, replacement
from handlers.text.markup import Button, Message, fmt, verbatim

TRICKY = 'We are sorry & <b>care</b> 😀 电池安全，请放心 <a href="https://evil.example">x</a> @room'
PILLS = {"alice": "@alice:test", "bob": "@bob:test"}


class _Reader(HTMLParser):
    """What a client renders from the HTML: its text, and the tags and links in it."""

    def __init__(self):
        super().__init__()
        self.text, self.tags, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [value for name, value in attrs if name == "href"]
        if tag == "br":
            self.text.append("\n")

    def handle_data(self, data):
        self.text.append(data)


def shown(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def test_user_text_is_escaped_in_the_html_and_exact_in_the_body():
    said = content(fmt("**Draft v1** by {who}:\n{text}", who="Carol <script>", text=TRICKY))
    assert said["body"] == f"Draft v1 by Carol <script>:\n{TRICKY}"
    assert said["format"] == "org.matrix.custom.html" and said["msgtype"] == "m.text"
    read = shown(said["formatted_body"])
    assert "".join(read.text) == said["body"]  # a client shows exactly what was typed, CJK and emoji included
    assert read.tags == ["strong", "br"] and read.links == []  # only our own markup: no link, no script from user text
    assert "&amp; &lt;b&gt;care&lt;/b&gt;" in said["formatted_body"]


def test_a_statement_quoted_verbatim_is_never_styled_linked_or_rewritten():
    said = content(fmt("Line: {line}", line=verbatim("**not bold** @alice /crisis stays 电池")), PILLS)
    assert said["body"] == "Line: **not bold** @alice /crisis stays 电池"
    read = shown(said["formatted_body"])
    assert read.tags == [] and read.links == [] and said["m.mentions"] == {}


def test_buttons_are_shown_as_the_commands_to_type():
    message = fmt("You are **Legal counsel**. Type `/crisis #1 ack` to accept.")
    message.buttons += [Button("Accept the role", "#1 ack", "primary"), Button("Decline <now>", "#1 decline", prompt="reason")]
    said = content(message)
    assert said["body"].splitlines() == [
        "You are Legal counsel. Type !crisis #1 ack to accept.",
        "• Accept the role: !crisis #1 ack",
        "• Decline <now>: !crisis #1 decline <reason>",
    ]
    read = shown(said["formatted_body"])
    assert "".join(read.text).splitlines() == said["body"].splitlines()
    assert "/crisis" not in said["body"] and "button" not in read.tags


def test_team_members_become_pills_and_are_mentioned_others_stay_text():
    said = content(fmt("Waiting for {a} and {b}; ask @mallory.", a="@alice", b="@bob."), PILLS)
    read = shown(said["formatted_body"])
    assert read.links == ["https://matrix.to/#/@alice:test", "https://matrix.to/#/@bob:test"]
    assert said["m.mentions"] == {"user_ids": ["@alice:test", "@bob:test"]}
    assert "".join(read.text) == said["body"] == "Waiting for @alice and @bob.; ask @mallory."


def test_a_publication_is_the_approved_text_alone_and_mentions_nobody():
    assert exact(TRICKY) == {"msgtype": "m.text", "body": TRICKY, "m.mentions": {}}  # its "@room" pings no one


def test_an_edit_replaces_in_place_with_a_fallback_for_clients_that_do_not_know_edits():
    new = content(Message.from_json({"spans": [["", "v2 & more"]], "buttons": []}))
    edit = replacement("$card", new)
    assert edit["m.new_content"] == new and edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$card"}
    assert edit["body"] == "* v2 & more" and edit["formatted_body"] == "* v2 &amp; more"


def test_a_command_is_what_follows_the_prefix_with_pills_as_user_ids_and_replies_unquoted():
    assert command_text({"body": "!crisis declare outage sev2 电池 😀"}, direct=False) == "declare outage sev2 电池 😀"
    assert command_text({"body": "!Crisis"}, direct=False) == ""
    assert command_text({"body": "!crisisdeclare x"}, direct=False) is None
    assert command_text({"body": "status please"}, direct=False) is None
    assert command_text({"body": "status"}, direct=True) == "status"
    pill = {
        "body": "!crisis assign exec Bob Li",
        "format": "org.matrix.custom.html",
        "formatted_body": '!crisis assign exec <a href="https://matrix.to/#/%40bob%3Atest">Bob Li</a> &amp; co',
    }
    assert command_text(pill, direct=False) == "assign exec @bob:test & co"
    reply = {
        "body": "> <@alice:test> Draft v1\n\n!crisis approve v1",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}},
    }
    assert readable(reply) == "!crisis approve v1"

"""Neutral markup as Slack sees it: styles become mrkdwn, user text can never become markup or a mention."""

from bot.slack.render import blocks, button_command, escape, mrkdwn, unescape
from handlers.text.markup import Button, Message, fmt, lines, text


def test_styles_become_mrkdwn_and_values_are_escaped():
    message = fmt("**Draft v{n}** by {who}: `{cmd}`", n=2, who="Eve <!channel> & co", cmd="/crisis approve v2")
    assert mrkdwn(message) == "*Draft v2* by Eve &lt;!channel&gt; &amp; co: `/crisis approve v2`"


def test_user_text_that_looks_like_markup_stays_text():
    assert mrkdwn(text("<@U123> *bold* <https://x|y>")) == "&lt;@U123&gt; *bold* &lt;https://x|y&gt;"
    assert unescape(escape("a & <b> > c")) == "a & <b> > c"


def test_buttons_carry_the_command_and_a_prompt_when_one_is_needed():
    message = lines(
        text("v3 needs you"),
        Message(buttons=[Button("Approve v3", "#1 approve v3", "primary"), Button("Reject v3", "#1 reject v3", "danger", "reason")]),
    )
    *sections, actions = blocks(message)
    assert sections == [{"type": "section", "text": {"type": "mrkdwn", "text": "v3 needs you"}}]
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == ("ov:0", "#1 approve v3", "primary")
    assert button_command(reject["value"]) == ("#1 reject v3", "reason")


def test_long_text_is_split_into_sections_at_line_ends():
    body = "\n".join(f"line {i} " + "x" * 90 for i in range(60))
    sections = blocks(text(body))
    assert len(sections) == 2 and all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert "\n".join(s["text"]["text"] for s in sections) == escape(body)

"""A redelivered command is run again and rolled back whole when its dedup key is found taken at commit (issue 14: no
look-up before the work). What the person sees is the first answer, and nothing happens twice."""


def test_a_redelivered_task_is_added_once_and_answered_as_the_first_time(chat):
    incident_id, room = chat.declare()
    first = chat.say("alice", "task Call the regulator", room, event_id="slack:t1")
    again = chat.say("alice", "task Call the regulator", room, event_id="slack:t1")
    assert again.message.plain() == first.message.plain()
    assert chat.say("alice", "tasks", room).message.plain().count("Call the regulator") == 1


def test_a_redelivery_gets_the_stored_answer_even_where_running_it_again_would_be_refused(chat):
    incident_id, room = chat.declare()
    first = chat.say("alice", "task Brief the hotline", room, event_id="telegram:7")
    assert first.ok
    assert chat.say("alice", "resolve False alarm", room).ok
    assert chat.say("alice", "close --force The batteries were fine", room).ok
    assert "closed" in chat.say("alice", f"#{incident_id} task Brief the hotline again", "lobby").message.plain()  # refused now
    again = chat.say("alice", "task Brief the hotline", room, event_id="telegram:7")
    assert again.ok and again.message.plain() == first.message.plain()

"""The Chinese-name tagger is built once per process, by whoever asks first: the run's warm-up thread or a draft."""

import threading

from config.model import VetRules
from handlers.line import names
from tests.templates import copy_of_starter


def test_warming_without_chinese_rules_builds_nothing_and_with_them_builds_one_tagger_for_every_thread():
    names._built.cache_clear()
    names.warm([VetRules()])  # English-only rules look for no Chinese names
    assert names._built.cache_info().currsize == 0
    found: list[object] = []
    threads = [threading.Thread(target=names.warm, args=(list(copy_of_starter().vet.values()),))]
    threads += [threading.Thread(target=lambda: found.append(names._tagger())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(tagger) for tagger in found}) == 1 and names._built.cache_info().misses == 1
    assert found[0].tokenizer.initialized  # its word list read too: the first Chinese draft reads nothing
    rules = list(copy_of_starter().vet.values())
    assert names.chinese_names("我们已联系王小明先生。", rules)  # the warmed tagger finds a name

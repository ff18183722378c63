"""The form the vet rules read: cleaning's matching form, look-alike letters folded, Traditional Chinese as Simplified.

Every step keeps one character for one, so a finding still quotes the words as the author wrote them.
"""

from functools import cache

from handlers.core.cleaning import matching_form

# Cyrillic and Greek letters drawn like Latin ones (Unicode confusables of the Latin alphabet, common faces):
# "nо cоmment" with a Cyrillic о reads as "no comment" and must be found as such.
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁһԛԝӏАВЕКМНОРСТХУІЈЅԌԚԜ"  # Cyrillic
    "οαιικνρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",  # Greek
    "aeopcyxijsdhqwlABEKMHOPCTXYIJSGQWoaiikvptuxABEZHIKMNOPTYX",
)


@cache
def _converter():
    """OpenCC's Traditional → Simplified converter, built once (it reads its dictionaries)."""
    import opencc  # deferred: a process that never vets never loads the dictionaries

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional Chinese as Simplified, character for character (a phrase that would change length is converted per character)."""
    if text.isascii():
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(piece if len(piece := _converter().convert(char)) == 1 else char for char in text)


def vetting_form(text: str) -> tuple[str, list[int]]:
    """The text as the rules read it, and where each of its characters came from in `text`."""
    seen, origin = matching_form(text)
    return simplified(seen.translate(_LOOK_ALIKES)), origin

from agreements.templatetags.agreement_tags import ZERO_WIDTH_SPACE, breakable, text_dir


def test_breakable_lets_long_words_wrap_every_20_characters():
    result = breakable("short words stay " + "x" * 45, True)
    assert result == "short words stay " + ZERO_WIDTH_SPACE.join(["x" * 20, "x" * 20, "x" * 5])


def test_breakable_escapes_markup_inside_and_outside_long_runs():
    result = breakable('<b>hi</b> <img src="http://127.0.0.1:9/' + "a" * 40 + '">', True)
    assert "<b>" not in result and "<img" not in result
    assert result.startswith("&lt;b&gt;hi&lt;/b&gt; &lt;img")
    assert result.replace(ZERO_WIDTH_SPACE, "").endswith("a" * 40 + "&quot;&gt;")


def test_breakable_leaves_ordinary_text_alone():
    text = "Ordinary sentence, with https://example.org/short and émojis 🎉."
    assert breakable(text, True) == text.replace("'", "&#x27;")


def test_on_screen_long_words_stay_whole_and_escaped():
    url = "<https://example.org/" + "x" * 60 + ">"
    assert breakable(url) == "&lt;https://example.org/" + "x" * 60 + "&gt;"


def test_text_direction_follows_the_first_strong_character():
    assert text_dir("مرحبا بالعالم. Hello") == "rtl"
    assert text_dir("שלום") == "rtl"
    assert text_dir("2027: مرحبا") == "rtl"  # digits are weak
    assert text_dir("Hello مرحبا") == "ltr"
    assert text_dir("🎉 你好") == "ltr"
    assert text_dir("") == "ltr"

from django import forms
from django.template import Context, Template

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


class Rhythm(forms.Form):
    every = forms.ChoiceField(label="How often", choices=[("", "Choose"), ("w", "Weekly")])
    when = forms.ChoiceField(label="When", choices=[("am", "Mornings")], widget=forms.RadioSelect)
    seen = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("The rhythm does not fit the term.")


def summary(*forms_):
    template = Template("{% load agreement_tags %}{% error_summary a b %}")
    return template.render(Context({"a": forms_[0], "b": forms_[1] if len(forms_) > 1 else ""}))


def test_the_error_summary_links_each_problem_to_its_field():
    html = summary(Rhythm({"every": "", "seen": ""}))
    assert "There are 4 problems" in html
    assert '<a href="#id_every">How often: This field is required.</a>' in html
    # A radio group links to its first button.
    assert '<a href="#id_when_0">When: This field is required.</a>' in html
    # A hidden field has nothing to go to: its message stands alone.
    assert "<li>This field is required.</li>" in html
    assert "<li>The rhythm does not fit the term.</li>" in html
    assert "data-error-summary" in html


def test_the_error_summary_shows_nothing_for_a_fresh_form_or_none():
    assert summary(Rhythm(), "").strip() == ""


def test_the_error_summary_leaves_out_rows_marked_for_removal():
    class Row(forms.Form):
        topic = forms.CharField(label="Topic")
        rule = forms.CharField(label="Rule")

    Rows = forms.formset_factory(Row, can_delete=True)
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-rule": "Never",
        "form-0-DELETE": "on",
        "form-1-rule": "Never",
    }
    html = summary(Rows(data))
    assert "There is a problem" in html
    assert 'href="#id_form-1-topic"' in html
    assert "id_form-0-topic" not in html

"""Settings read from the environment: the spellings people use, and one line naming a bad one."""

import pytest

from chatbot import environment


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("yes", True), ("1", True)])
def test_a_boolean_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("CHATBOT_TEST_FLAG", value)

    assert environment.Env().bool("CHATBOT_TEST_FLAG", not expected) is expected


@pytest.mark.parametrize("value", ["off", "no", "0", "False"])
def test_a_boolean_reads_false_spellings(monkeypatch, value):
    monkeypatch.setenv("CHATBOT_TEST_FLAG", value)

    assert environment.Env().bool("CHATBOT_TEST_FLAG", True) is False


def test_an_unset_variable_gives_the_default(monkeypatch):
    monkeypatch.delenv("CHATBOT_TEST_NUMBER", raising=False)

    assert environment.Env().int("CHATBOT_TEST_NUMBER", 7, minimum=1) == 7


@pytest.mark.parametrize(
    ("reader", "value", "problem"),
    [
        ("bool", "maybe", "Not a valid boolean."),
        ("int", "eighty", "Not a valid integer."),
        ("int", "0", "Must be greater than or equal to 1."),
        ("float", "nan", "Special numeric values (nan or infinity) are not permitted."),
        ("float", "fast", "Not a valid number."),
    ],
)
def test_a_value_that_cannot_be_read_names_the_variable(monkeypatch, reader, value, problem):
    monkeypatch.setenv("CHATBOT_TEST_VALUE", value)
    env = environment.Env()
    read = {
        "bool": lambda: env.bool("CHATBOT_TEST_VALUE", False),
        "int": lambda: env.int("CHATBOT_TEST_VALUE", 5, minimum=1),
        "float": lambda: env.float("CHATBOT_TEST_VALUE", 1.0),
    }[reader]

    with pytest.raises(environment.InvalidSetting) as error:
        read()

    assert str(error.value) == f'Environment variable "CHATBOT_TEST_VALUE" invalid: {problem}'


def test_a_choice_outside_the_list_is_refused(monkeypatch):
    monkeypatch.setenv("CHATBOT_TEST_FORMAT", "xml")

    with pytest.raises(environment.InvalidSetting, match=r"Must be one of: line, json\."):
        environment.Env().str("CHATBOT_TEST_FORMAT", "line", choices=["line", "json"])


def test_lists_split_on_their_delimiter_and_empty_means_none(monkeypatch):
    env = environment.Env()
    monkeypatch.setenv("CHATBOT_TEST_LIST", "How do I log in?|Where is the VPN guide?")
    assert env.list("CHATBOT_TEST_LIST", [], delimiter="|") == [
        "How do I log in?",
        "Where is the VPN guide?",
    ]
    monkeypatch.setenv("CHATBOT_TEST_LIST", "")
    assert env.list("CHATBOT_TEST_LIST", ["default"]) == []


def test_a_database_url_becomes_django_settings_and_a_bad_one_is_named(monkeypatch):
    env = environment.Env()
    monkeypatch.setenv(
        "CHATBOT_TEST_DB", "postgres://app:pw@db.internal:5433/chatbot?sslmode=require"
    )

    database = env.dj_db_url("CHATBOT_TEST_DB", "postgres://localhost/x")

    assert (database["NAME"], database["HOST"], database["PORT"]) == (
        "chatbot",
        "db.internal",
        5433,
    )
    assert database["OPTIONS"] == {"sslmode": "require"}
    monkeypatch.setenv("CHATBOT_TEST_DB", "not a url")
    with pytest.raises(environment.InvalidSetting, match="Not a valid database URL"):
        env.dj_db_url("CHATBOT_TEST_DB", "postgres://localhost/x")


def test_the_env_file_fills_in_only_what_the_environment_leaves_unset(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text('CHATBOT_TEST_A=from-file\nexport CHATBOT_TEST_B="quoted value"\n')
    monkeypatch.setenv("CHATBOT_TEST_A", "from-environment")
    monkeypatch.delenv("CHATBOT_TEST_B", raising=False)
    env = environment.Env()

    assert env.read_env(env_file) is True
    assert env.str("CHATBOT_TEST_A", "") == "from-environment"
    assert env.str("CHATBOT_TEST_B", "") == "quoted value"
    assert environment.Env().read_env(tmp_path / "missing.env") is False

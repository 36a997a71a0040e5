"""The web page in headless Chromium: consultation, citations, search, prediction and the language switch.

Needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)
and selenium from PyPI. Screenshots go to TIANPING_SCREENSHOTS, or to the test's
temporary folder.
"""

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the service extra: pip install 'tianping[service]'")
pytest.importorskip("selenium", reason="needs selenium: pip install selenium")

from servicekit import QUESTION, ThreadedServer, build_service_home, make_key, train_prediction_model

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
                       reason="needs /usr/bin/chromium and /usr/bin/chromedriver: "
                              "apt-get install -y chromium chromium-driver"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Run the app under uvicorn on 127.0.0.1; yield (base URL, key)."""
    from tianping.service import ServiceSettings, create_app

    home = build_service_home(tmp_path_factory.mktemp("browser-home"))
    key = make_key(home, "browser")
    model = train_prediction_model(tmp_path_factory.mktemp("browser-model"))
    with ThreadedServer(create_app(ServiceSettings(home=home, prediction_model=model))) as running:
        yield running.base_url, key


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    configured = os.environ.get("TIANPING_SCREENSHOTS")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture()
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def wait_for(driver, condition, timeout=20.0):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page replaces result lists when a new response arrives, so an element found a moment
    # earlier can go stale. The condition is then checked again.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def visible(element_id):
    from selenium.webdriver.common.by import By

    def check(driver):
        element = driver.find_element(By.ID, element_id)
        return element if element.is_displayed() else False

    return check


def enter_key(driver, key):
    from selenium.webdriver.common.by import By

    wait_for(driver, visible("key-input")).send_keys(key)
    driver.find_element(By.ID, "key-save").click()
    wait_for(driver, lambda d: not d.find_element(By.ID, "key-dialog").is_displayed())


def test_consultation_and_citation(server, browser, screenshots):
    from selenium.webdriver.common.by import By

    base, key = server
    browser.get(base + "/")
    assert browser.find_element(By.ID, "tab-consult").text == "法律咨询"
    enter_key(browser, key)
    assert browser.execute_script("return sessionStorage.getItem('tianping-api-key')") == key

    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "ask-submit").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#source-list .cite-link"))
    assert "《中华人民共和国道路交通安全法》第九十一条" in browser.find_element(By.ID, "answer-text").text
    assert browser.find_elements(By.CSS_SELECTOR, "#check-list li.valid")
    browser.save_screenshot(str(screenshots / "consultation.png"))

    browser.find_element(By.CSS_SELECTOR, "#source-list .cite-link").click()
    wait_for(browser, visible("article-viewer"))
    assert browser.find_element(By.ID, "viewer-title").text == "《中华人民共和国道路交通安全法》第九十一条"
    assert "醉酒驾驶机动车的" in browser.find_element(By.ID, "viewer-text").text
    assert browser.find_elements(By.CSS_SELECTOR, "#viewer-versions tr")
    browser.save_screenshot(str(screenshots / "citation.png"))
    browser.find_element(By.ID, "viewer-close").click()
    assert not browser.find_element(By.ID, "article-viewer").is_displayed()


def test_search_browse_and_language(server, browser, screenshots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, key = server
    browser.get(base + "/")
    enter_key(browser, key)
    browser.find_element(By.ID, "tab-search").click()
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#browse-law option")) == 3)

    browser.find_element(By.ID, "search-query").send_keys("盗窃 数额较大")
    browser.find_element(By.ID, "search-submit").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results .cite-link"))
    first = browser.find_element(By.CSS_SELECTOR, "#search-results .cite-link").text
    assert first == "《中华人民共和国刑法》第二百六十四条"
    browser.save_screenshot(str(screenshots / "search.png"))

    Select(browser.find_element(By.ID, "browse-law")).select_by_value("中华人民共和国民法典")
    article = browser.find_element(By.ID, "browse-article")
    article.clear()
    article.send_keys("577")
    browser.find_element(By.CSS_SELECTOR, "#browse-form button[type=submit]").click()
    wait_for(browser, visible("article-viewer"))
    assert browser.find_element(By.ID, "viewer-title").text == "《中华人民共和国民法典》第五百七十七条"
    browser.find_element(By.ID, "viewer-close").click()

    browser.find_element(By.ID, "lang-button").click()
    assert browser.find_element(By.ID, "tab-search").text == "Statute search"
    assert browser.execute_script("return document.documentElement.lang") == "en"
    browser.find_element(By.ID, "tab-predict").click()
    assert "trained model" in browser.find_element(By.ID, "panel-predict").text
    browser.save_screenshot(str(screenshots / "prediction-en.png"))


def test_prediction_and_article(server, browser, screenshots):
    from selenium.webdriver.common.by import By

    base, key = server
    browser.get(base + "/")
    enter_key(browser, key)
    browser.find_element(By.ID, "tab-predict").click()
    browser.find_element(By.ID, "predict-fact").send_keys("2022年3月5日，被告人韩某在商场内秘密窃取他人手机一部，价值3000元。")
    browser.find_element(By.ID, "predict-submit").click()
    wait_for(browser, visible("predict-result"))
    assert browser.find_element(By.CSS_SELECTOR, "#charge-list li").text.startswith("盗窃罪")
    assert browser.find_element(By.ID, "predict-term").text
    browser.save_screenshot(str(screenshots / "prediction.png"))

    # A term taken from the sentencing recommendation shows its basis. The last fact has none.
    theft = "2022年3月5日，被告人韩某在商场内秘密窃取他人手机一部，价值3000元。"
    for fact, expected in [
        (theft + "公诉机关建议判处一年以上二年以下有期徒刑。",
         "11 个月（有期徒刑）（依据事实中的量刑建议 12–24 个月，取其中点的 0.60）"),
        (theft + "公诉机关建议判处一年以下有期徒刑。", "7 个月（有期徒刑）（依据事实中的量刑建议 12 个月，取其中点的 0.60）"),
        (theft, None),
    ]:
        field = browser.find_element(By.ID, "predict-fact")
        field.clear()
        field.send_keys(fact)
        browser.find_element(By.ID, "predict-submit").click()
        if expected:
            wait_for(browser, lambda driver, text=expected: driver.find_element(By.ID, "predict-term").text == text)
        else:
            wait_for(browser, lambda driver: "量刑建议" not in driver.find_element(By.ID, "predict-term").text)

    browser.find_element(By.CSS_SELECTOR, "#predict-articles .cite-link").click()
    wait_for(browser, visible("article-viewer"))
    assert browser.find_element(By.ID, "viewer-title").text == "《中华人民共和国刑法》第二百六十四条"
    assert "2022-03-05" in browser.find_element(By.ID, "viewer-meta").text

    # 危险驾驶 carries article 133 in the training labels, and 第一百三十三条之一 defines it.
    browser.find_element(By.ID, "viewer-close").click()
    field = browser.find_element(By.ID, "predict-fact")
    field.clear()
    field.send_keys("2022年3月5日，被告人朱某醉酒驾驶机动车，血液酒精含量为160mg/100ml。")
    browser.find_element(By.ID, "predict-submit").click()
    wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, "#charge-list li").text.startswith("危险驾驶"))
    link = browser.find_element(By.CSS_SELECTOR, "#predict-articles .cite-link")
    assert link.text == "《中华人民共和国刑法》第一百三十三条之一"
    assert "记为第一百三十三条" in browser.find_element(By.CSS_SELECTOR, "#predict-articles .article-note").text
    link.click()
    wait_for(browser, lambda driver: driver.find_element(By.ID, "viewer-title").text
             == "《中华人民共和国刑法》第一百三十三条之一")

    # The page writes a charge without the brackets of its CAIL2018 label.
    browser.find_element(By.ID, "viewer-close").click()
    field = browser.find_element(By.ID, "predict-fact")
    field.clear()
    field.send_keys("被告人郑某在其经营的按摩店内容留三名妇女卖淫。")
    browser.find_element(By.ID, "predict-submit").click()
    wait_for(browser, lambda driver: driver.find_element(By.CSS_SELECTOR, "#charge-list li").text
             .startswith("引诱、容留、介绍卖淫罪"))


def test_error_message_and_phone_width(server, browser, screenshots):
    from selenium.webdriver.common.by import By

    base, _ = server
    browser.set_window_size(390, 844)
    browser.get(base + "/")
    assert not browser.find_element(By.ID, "answer-area").is_displayed()
    enter_key(browser, "tp_000000000000_wrongwrongwrongwrongwrong")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "ask-submit").click()
    wait_for(browser, visible("message"))
    assert "API 密钥" in browser.find_element(By.ID, "message").text
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    browser.save_screenshot(str(screenshots / "phone-wrong-key.png"))

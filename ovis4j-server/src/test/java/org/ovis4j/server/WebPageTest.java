package org.ovis4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in a real headless Chromium (Debian's chromium and chromium-driver, which .ci/run
 * installs; the test fails without them): type a prompt, press Generate, wait for the image, and
 * check that the progress bar went through the steps. It leaves a screenshot in
 * target/serve-page.png, or where -Dovis4j.screenshot says (the README's is docs/images/serve.png).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WebPageTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium"), CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Selenium warns that it has no DevTools bindings for this Chromium's version; the test uses WebDriver only. */
    static final java.util.logging.Logger DEVTOOLS = java.util.logging.Logger.getLogger("org.openqa.selenium.devtools");

    static {
        DEVTOOLS.setLevel(java.util.logging.Level.SEVERE);
    }

    @Test
    void generateFromThePage(@TempDir Path tmp) throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER))
            fail("the page test needs Debian's chromium and chromium-driver at " + CHROMIUM + " and " + CHROMEDRIVER
                    + " (apt-get install chromium chromium-driver; .ci/run does)");
        try (TestServer s = TestServer.startLoaded(TestServer.options(tmp.resolve("data"), 8, null), TestServer::tinyGenerator)) {
            // Two earlier results, so that the gallery shows more than the new one.
            for (long seed : new long[] {3, 4})
                assertEquals(200, s.post("/v1/images/generations", Map.of("prompt", "a neon sign reading \"OPEN\" (seed " + seed + ")",
                        "size", "128x128", "steps", 4L, "seed", seed)).status());
            long t0 = System.nanoTime();
            WebDriver driver = chromium(tmp.resolve("profile"));
            System.out.printf("page: chromium started in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            try {
                driver.get(s.server.url() + "/");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
                wait.until(d -> d.findElement(By.id("health")).getText().startsWith("ok"));
                wait.until(d -> d.findElements(By.cssSelector("#gallery .card img")).size() == 2);

                driver.findElement(By.id("prompt")).sendKeys("A poster that says \"OVIS4J SERVE\"");
                new Select(driver.findElement(By.id("size"))).selectByValue("128x128");
                WebElement steps = driver.findElement(By.id("steps"));
                steps.clear();
                steps.sendKeys("12");
                driver.findElement(By.id("seed")).sendKeys("7");
                driver.findElement(By.id("generate")).click();

                wait.until(d -> d.findElements(By.cssSelector("#gallery .card")).size() == 3);
                WebElement card = driver.findElements(By.cssSelector("#gallery .card")).getFirst();
                WebElement img = card.findElement(By.tagName("img"));
                wait.until(d -> ((Number) ((JavascriptExecutor) d).executeScript("return arguments[0].naturalWidth", img)).intValue() == 128);
                assertTrue(card.getText().contains("A poster that says \"OVIS4J SERVE\""), card.getText());
                assertTrue(card.getText().contains("128×128 · 12 steps · guidance 5 · seed 7"), card.getText());
                WebElement download = card.findElement(By.tagName("a"));
                assertTrue(download.getAttribute("href").startsWith("blob:"), download.getAttribute("href"));
                assertTrue(download.getAttribute("download").matches("job_[0-9a-f]{24}-0\\.png"), download.getAttribute("download"));

                // The bar was fed by the event stream: it went up step by step, from 0 to 100.
                WebElement bar = driver.findElement(By.id("progress"));
                List<Integer> history = Arrays.stream(bar.getAttribute("data-history").split(",")).map(Integer::parseInt).toList();
                assertEquals(100, Integer.parseInt(bar.getAttribute("aria-valuenow")));
                assertEquals(0, history.getFirst(), history.toString());
                assertEquals(100, history.getLast(), history.toString());
                assertTrue(history.stream().filter(p -> p > 0 && p < 100).count() >= 10, "every step moved the bar: " + history);
                for (int k = 1; k < history.size(); k++) assertTrue(history.get(k) > history.get(k - 1), "the bar only moves forward: " + history);
                assertTrue(driver.findElement(By.id("progress-text")).getText().equals("completed"));

                // A request the server refuses (the form's own checks pass a blank prompt) shows the server's message.
                WebElement prompt = driver.findElement(By.id("prompt"));
                prompt.clear();
                prompt.sendKeys("   ");
                driver.findElement(By.id("generate")).click();
                wait.until(d -> !d.findElement(By.id("error")).getText().isEmpty());
                assertEquals("prompt: must not be empty", driver.findElement(By.id("error")).getText());
                prompt.clear();
                prompt.sendKeys("A poster that says \"OVIS4J SERVE\"");
                ((JavascriptExecutor) driver).executeScript("document.getElementById('error').textContent = ''");

                byte[] png = ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES);
                Path shot = Path.of(System.getProperty("ovis4j.screenshot", "target/serve-page.png"));
                Files.createDirectories(shot.toAbsolutePath().getParent());
                Files.write(shot, png);
                System.out.printf("page: generated from the page, bar went through %s; screenshot %s; %.1f s with chromium%n",
                        history, shot, (System.nanoTime() - t0) / 1e9);
            } finally {
                driver.quit();
            }
        }
    }

    /**
     * Chromium as it works on this closed network: headless, its background connections (updates,
     * sync, field trials) off, a fresh profile, and the system's chromedriver named so that
     * Selenium never tries to download one.
     */
    static WebDriver chromium(Path profile) {
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toString());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1200,1000");
        return new ChromeDriver(service, options);
    }
}

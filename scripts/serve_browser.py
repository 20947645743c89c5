"""The page of `synapse serve` in a real browser: headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium) loads it, draws MNIST test digits on the canvas by replaying strokes with the pointer (each row's runs of
ink become one stroke), and checks that the label the page shows equals what `synapse predict` says for the same
drawing (the canvas saved as a PNG). It also clicks a hidden neuron, and saves a screenshot.

usage: python3 scripts/serve_browser.py [--synapse .build/release/synapse] [--classifier runs/mnist-seed/model.safetensors]
                                        [--digits 10] [--screenshot docs/figures/serve-page.png] [--llm FILE.gguf] [--embedder DIR]
Needs `pip install selenium` and `apt-get install chromium chromium-driver`. Trains the notes' 784-16-16-10 network
first when --classifier is not given. Exits 1 when a label differs.
"""
import argparse, base64, gzip, os, re, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mnist_test(count):
    """`count` test images, the first of each class in turn, as 28×28 lists of 0...255."""
    images = gzip.open(os.path.join(ROOT, "datasets/mnist/t10k-images-idx3-ubyte.gz")).read()[16:]
    labels = gzip.open(os.path.join(ROOT, "datasets/mnist/t10k-labels-idx1-ubyte.gz")).read()[8:]
    chosen, seen = [], {}
    for i, label in enumerate(labels):
        if seen.get(label, 0) < (count + 9) // 10:
            seen[label] = seen.get(label, 0) + 1
            chosen.append((label, [list(images[i * 784 + r * 28:i * 784 + r * 28 + 28]) for r in range(28)]))
        if len(chosen) == count:
            break
    return chosen


def strokes(image):
    """Each row's runs of ink (> 127) as one horizontal stroke, in 28×28 pixel coordinates."""
    out = []
    for y, row in enumerate(image):
        x = 0
        while x < 28:
            if row[x] > 127:
                start = x
                while x < 28 and row[x] > 127:
                    x += 1
                out.append(((start, y), (x - 1, y)))
            x += 1
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synapse", default=os.path.join(ROOT, ".build", "release", "synapse"))
    p.add_argument("--classifier")
    p.add_argument("--llm")
    p.add_argument("--embedder")
    p.add_argument("--digits", type=int, default=10)
    p.add_argument("--screenshot", default=os.path.join(ROOT, "docs", "figures", "serve-page.png"))
    a = p.parse_args()
    from selenium import webdriver
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    work = tempfile.mkdtemp(prefix="synapse-browser-")
    classifier = a.classifier
    if classifier is None:
        subprocess.run([a.synapse, "train", "mnist", "--model", "seed", "--epochs", "3", "--out", os.path.join(work, "seed"),
                        "--plain"], check=True, stdout=subprocess.DEVNULL)
        classifier = os.path.join(work, "seed", "model.safetensors")
    port = free_port()
    argv = [a.synapse, "serve", "--classifier", classifier, "--port", str(port)]
    if a.llm:
        argv += ["--llm", a.llm]
    if a.embedder:
        argv += ["--embedder", a.embedder]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    failures = 0
    try:
        for _ in range(300):
            line = server.stdout.readline()
            if line.startswith("serving on"):
                break
        options = webdriver.ChromeOptions()
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1320"):
            options.add_argument(flag)
        options.binary_location = "/usr/bin/chromium"
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)
        driver.get(f"http://127.0.0.1:{port}/")
        for _ in range(100):
            if driver.execute_script("return window.synapse && window.synapse.ready"):
                break
            time.sleep(0.05)
        pad = driver.find_element(By.ID, "pad")
        size = pad.size
        for label, image in mnist_test(a.digits):
            driver.find_element(By.ID, "clear").click()
            before = driver.execute_script("return window.synapse.classified")
            for (x0, y0), (x1, y1) in strokes(image):
                # Pixel centres on the 280 × 280 canvas, as offsets from the element's centre.
                sx, sy = (x0 + 0.5) * size["width"] / 28 - size["width"] / 2, (y0 + 0.5) * size["height"] / 28 - size["height"] / 2
                ex = (x1 + 0.5) * size["width"] / 28 - size["width"] / 2
                chain = ActionChains(driver, duration=0).move_to_element_with_offset(pad, int(sx), int(sy)).click_and_hold()
                if ex != sx:
                    chain = chain.move_by_offset(int(ex - sx), 0)
                chain.release().perform()
            for _ in range(200):
                if driver.execute_script("return window.synapse.classified") > before:
                    break
                time.sleep(0.02)
            time.sleep(0.3)   # the last stroke's answer
            shown = driver.find_element(By.ID, "answer").text
            drawing = os.path.join(work, f"drawing-{label}.png")
            data = driver.execute_script("return document.getElementById('pad').toDataURL('image/png')")
            open(drawing, "wb").write(base64.b64decode(data.split(",", 1)[1]))
            out = subprocess.run([a.synapse, "predict", classifier, drawing], capture_output=True, text=True).stdout
            predicted = re.search(r"prediction: (\S+)", out).group(1)
            ok = shown == predicted
            failures += not ok
            print(f"digit {label}: the page shows {shown}, synapse predict says {predicted} for the same drawing"
                  f"{'' if ok else '  <- DIFFERENT'}")
        # A hidden neuron's pattern, then the screenshot with the last digit on.
        circles = driver.find_elements(By.CSS_SELECTOR, "#net circle.hidden")
        lit = [c.get_attribute("fill") for c in circles]
        if circles:
            circles[len(circles) // 4].click()
            time.sleep(0.3)
        print(f"network: {len(circles)} hidden neurons drawn, {sum('0.000' not in f for f in lit)} lit; pattern: "
              f"{driver.find_element(By.ID, 'patternnote').text[:60]}")
        # The chat (streamed over server-sent events) and embedding panels, when those models are served.
        if a.llm:
            driver.find_element(By.ID, "chatin").send_keys("Name three colours.")
            driver.find_element(By.ID, "send").click()
            for _ in range(300):
                bots = driver.find_elements(By.CSS_SELECTOR, "#chatlog .bot")
                if bots and len(bots[-1].text) > 30:
                    break
                time.sleep(0.05)
            time.sleep(1.5)
            reply = driver.find_elements(By.CSS_SELECTOR, "#chatlog .bot")[-1].text
            print(f"chat panel: {reply[:80]!r}")
            failures += not reply.startswith("model: ") or len(reply) <= len("model: ")
        if a.embedder:
            driver.find_element(By.ID, "compare").click()
            for _ in range(100):
                value = driver.find_element(By.ID, "similarity").text
                if re.match(r"^-?\d\.\d{3}$", value):
                    break
                time.sleep(0.05)
            print(f"embedding panel: cosine similarity {value}")
            failures += not re.match(r"^-?\d\.\d{3}$", value)
        if a.screenshot:
            driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
            time.sleep(0.2)
            os.makedirs(os.path.dirname(a.screenshot), exist_ok=True)
            driver.save_screenshot(a.screenshot)
            print(f"screenshot: {a.screenshot}")
        driver.quit()
    finally:
        server.terminate()
        server.wait()
    print("all checks passed" if failures == 0 else f"{failures} checks failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

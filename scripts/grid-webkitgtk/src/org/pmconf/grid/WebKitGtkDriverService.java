package org.pmconf.grid;

import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.openqa.selenium.Capabilities;
import org.openqa.selenium.ImmutableCapabilities;
import org.openqa.selenium.remote.service.DriverService;

/**
 * One WebKitWebDriver process per session, started as {@code WebKitWebDriver --port=N}.
 *
 * <p>WebKitWebDriver has no {@code /shutdown} endpoint, MiniBrowser outlives a killed
 * WebKitWebDriver, and WebKitWebDriver outlives the node's JVM. So stopping the service ends the
 * driver's whole process tree, and a JVM shutdown hook ends every process the node started if
 * the node exits first.
 */
public final class WebKitGtkDriverService extends DriverService {
  private static final Duration GRACE = Duration.ofSeconds(5);

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> endTree(ProcessHandle.current().descendants().collect(Collectors.toList())),
                "pmconf-webkitgtk-cleanup"));
  }

  WebKitGtkDriverService(
      File executable, int port, Duration timeout, List<String> args, Map<String, String> env)
      throws IOException {
    super(executable, port, timeout, args, env);
  }

  @Override
  public String getDriverName() {
    return "WebKitWebDriver";
  }

  @Override
  public String getDriverProperty() {
    return "webdriver.webkitgtk.driver";
  }

  @Override
  public String getDriverEnvironmentVariable() {
    return "WEBKITGTK_DRIVER";
  }

  @Override
  protected Capabilities getDefaultDriverOptions() {
    return new ImmutableCapabilities("browserName", WebKitGtkDriverInfo.BROWSER_NAME);
  }

  @Override
  protected boolean hasShutdownEndpoint() {
    return false;
  }

  @Override
  public void stop() {
    // Collect the tree first: once the driver dies its children are reparented.
    List<ProcessHandle> tree = new ArrayList<>();
    driverProcess()
        .ifPresent(
            driver -> {
              tree.add(driver);
              driver.descendants().forEach(tree::add);
            });
    super.stop();
    endTree(tree);
  }

  /** This service's WebKitWebDriver: the node's descendant listening on our port. */
  private Optional<ProcessHandle> driverProcess() {
    String portArg = "--port=" + getUrl().getPort();
    return ProcessHandle.current()
        .descendants()
        .filter(
            p ->
                p.info().command().map(c -> c.endsWith("WebKitWebDriver")).orElse(false)
                    && p.info()
                        .arguments()
                        .map(a -> List.of(a).contains(portArg))
                        .orElse(false))
        .findFirst();
  }

  /** SIGTERM to every live process of {@code tree}, then SIGKILL to those left after a grace. */
  static void endTree(List<ProcessHandle> tree) {
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + GRACE.toNanos();
    for (ProcessHandle p : tree) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        try {
          p.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (Exception timedOutOrInterrupted) {
          // Forced below.
        }
      }
    }
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  /** Found by the node through META-INF/services; scores MiniBrowser requests. */
  public static final class Builder
      extends DriverService.Builder<WebKitGtkDriverService, WebKitGtkDriverService.Builder> {
    @Override
    public int score(Capabilities capabilities) {
      return WebKitGtkDriverInfo.BROWSER_NAME.equalsIgnoreCase(capabilities.getBrowserName())
          ? 1
          : 0;
    }

    @Override
    protected void loadSystemProperties() {
      if (exe == null) {
        exe = WebKitGtkDriverInfo.DRIVER.toFile();
      }
    }

    @Override
    protected List<String> createArgs() {
      return List.of("--port=" + getPort());
    }

    @Override
    protected WebKitGtkDriverService createDriverService(
        File exe, int port, Duration timeout, List<String> args, Map<String, String> env) {
      try {
        return new WebKitGtkDriverService(exe, port, timeout, args, env);
      } catch (IOException e) {
        throw new IllegalStateException("cannot start WebKitWebDriver: " + e, e);
      }
    }
  }
}

package org.pmconf.grid;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.openqa.selenium.Capabilities;
import org.openqa.selenium.ImmutableCapabilities;
import org.openqa.selenium.remote.WebDriverInfo;

/**
 * Tells a Selenium Grid node that it can serve WebKitGTK sessions: requests
 * whose browserName is MiniBrowser (WebKitGTK's test browser), driven by
 * WebKitWebDriver. Selenium has no WebKitGTK driver of its own.
 */
public final class WebKitGtkDriverInfo implements WebDriverInfo {
  /** The browserName pmconf sends for WebKitGTK through a Grid. */
  static final String BROWSER_NAME = "MiniBrowser";
  /** Where Debian's webkit2gtk-driver installs the driver. */
  static final Path DRIVER = Paths.get("/usr/bin/WebKitWebDriver");

  @Override
  public String getDisplayName() {
    return "WebKitGTK";
  }

  @Override
  public Capabilities getCanonicalCapabilities() {
    return new ImmutableCapabilities("browserName", BROWSER_NAME);
  }

  @Override
  public boolean isSupporting(Capabilities capabilities) {
    return BROWSER_NAME.equalsIgnoreCase(capabilities.getBrowserName());
  }

  @Override
  public boolean isSupportingCdp() {
    return false;
  }

  @Override
  public boolean isSupportingBiDi() {
    return false;
  }

  @Override
  public boolean isAvailable() {
    return isPresent();
  }

  @Override
  public boolean isPresent() {
    return Files.isExecutable(DRIVER);
  }

  /** One WebKitWebDriver per session: as many as the node configures. */
  @Override
  public int getMaximumSimultaneousSessions() {
    return Integer.MAX_VALUE;
  }
}

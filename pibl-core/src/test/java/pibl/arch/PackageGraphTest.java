package pibl.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Imports in pibl-core only run downward. From the ground up:
 *
 * <pre>
 *   config, runtime          records and facts of the running process (transport, version, counters)
 *   http, tls                HTTP/1.1 and proxy-hop rules, request validation, the codec; TLS contexts and sessions
 *   lb, cache                balancing and health; RFC 9111 policy and storage
 *   route                    pools (one backend group each) and routes: which pool a request goes to, with what
 *   upstream                 backend connections and one request's way through the backends
 *   tunnel                   two connections joined byte for byte after a 101 (WebSocket)
 *   handler                  the exchange segments of a client pipeline
 *   admin, server            the admin listener and the proxy that wires everything (server uses admin)
 * </pre>
 *
 * A cycle between two packages means neither can be understood, tested or replaced without the other: the
 * build fails on the first one.
 */
class PackageGraphTest {
    private static JavaClasses core;

    @BeforeAll
    static void importMainClasses() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("pibl");
    }

    @Test
    void noPackageCycles() {
        slices().matching("pibl.(*)..").should().beFreeOfCycles().check(core);
    }

    @Test
    void theGroundFloorImportsNothingOfPibl() {
        noClasses().that().resideInAnyPackage("pibl.config..", "pibl.runtime..")
                .should().dependOnClassesThat().resideInAnyPackage("pibl.http..", "pibl.lb..", "pibl.cache..",
                        "pibl.upstream..", "pibl.handler..", "pibl.admin..", "pibl.server..")
                .check(core);
    }

    /**
     * The configuration is read and checked before logging is set up (its file and level come from it); Netty's
     * first use starts Log4j through its logger factory, which would then log to the default file forever.
     */
    @Test
    void theConfigurationRecordsDoNotTouchNetty() {
        noClasses().that().resideInAPackage("pibl.config..")
                .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "org.apache.logging..")
                .check(core);
    }

    @Test
    void policyAndStorageKnowNothingOfPipelinesOrBackends() {
        noClasses().that().resideInAnyPackage("pibl.http..", "pibl.cache..", "pibl.lb..")
                .should().dependOnClassesThat().resideInAnyPackage("pibl.upstream..", "pibl.handler..",
                        "pibl.admin..", "pibl.server..")
                .check(core);
    }

    @Test
    void routingKnowsNothingOfConnectionsOrPipelines() {
        noClasses().that().resideInAPackage("pibl.route..")
                .should().dependOnClassesThat().resideInAnyPackage("pibl.upstream..", "pibl.handler..",
                        "pibl.admin..", "pibl.server..")
                .check(core);
    }

    @Test
    void theAdminListenerDoesNotReachIntoTheServer() {
        noClasses().that().resideInAPackage("pibl.admin..")
                .should().dependOnClassesThat().resideInAnyPackage("pibl.server..", "pibl.handler..",
                        "pibl.upstream..")
                .check(core);
    }
}

package pibl.config;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one definition of which requests a route takes ({@link RouteMatch#matches}) and of a route that can never
 * match because an earlier one takes all it would ({@link RouteMatch#covers}), as tables. Hosts and paths here are
 * as the router hands them over: lower case, no port, dot segments resolved.
 */
class RouteMatchTest {

    private static RouteMatch route(String host, String path, String methods) {
        return RouteMatch.of(host, path, methods == null ? List.of() : Arrays.asList(methods.split(" ")));
    }

    @ParameterizedTest(name = "{0} {1} {2} for host={3} path={4} {5}: {6}")
    @CsvSource(nullValues = "~", value = {
            // route host, route path, route methods, request host, request path, method, matches
            "~,               ~,        ~,        shop.example,     /a,          GET,  true",
            "~,               ~,        ~,        ~,                /a,          GET,  true",
            "shop.example,    ~,        ~,        shop.example,     /,           GET,  true",
            "Shop.Example,    ~,        ~,        shop.example,     /,           GET,  true",
            "shop.example,    ~,        ~,        www.shop.example, /,           GET,  false",
            "shop.example,    ~,        ~,        ~,                /,           GET,  false",
            "*.shop.example,  ~,        ~,        www.shop.example, /,           GET,  true",
            "*.shop.example,  ~,        ~,        a.b.shop.example, /,           GET,  true",
            "*.shop.example,  ~,        ~,        shop.example,     /,           GET,  false",
            "*.shop.example,  ~,        ~,        xshop.example,    /,           GET,  false",
            "*.shop.example,  ~,        ~,        .shop.example,    /,           GET,  false",
            "~,               /static/, ~,        a,                /static/x,   GET,  true",
            "~,               /static,  ~,        a,                /static/x,   GET,  true",
            "~,               /static,  ~,        a,                /static,     GET,  true",
            "~,               /static/, ~,        a,                /static,     GET,  true",
            "~,               /static,  ~,        a,                /static/,    GET,  true",
            "~,               /static,  ~,        a,                /staticfoo,  GET,  false",
            "~,               /static/, ~,        a,                /staticfoo,  GET,  false",
            "~,               /static,  ~,        a,                /stat,       GET,  false",
            "~,               /static,  ~,        a,                /Static/x,   GET,  false",
            "~,               /,        ~,        a,                /anything,   GET,  true",
            "~,               /a/b,     ~,        a,                /a/b/c,      GET,  true",
            "~,               /a/b,     ~,        a,                /a/bc,       GET,  false",
            "~,               /a/b,     ~,        a,                *,           OPTIONS, false",
            "~,               ~,        GET HEAD, a,                /,           HEAD, true",
            "~,               ~,        get,      a,                /,           GET,  true",
            "~,               ~,        GET,      a,                /,           POST, false",
            "shop.example,    /api,     POST,     shop.example,     /api/v1,     POST, true",
            "shop.example,    /api,     POST,     shop.example,     /api/v1,     GET,  false",
    })
    void matches(String host, String path, String methods, String requestHost, String requestPath, String method,
                 boolean expected) {
        assertThat(route(host, path, methods).matches(requestHost, requestPath, method)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} {1} {2} before {3} {4} {5}: shadows {6}")
    @CsvSource(nullValues = "~", value = {
            // earlier host, path, methods; later host, path, methods; the earlier takes every request of the later
            "~,              ~,      ~,        shop.example,   /a,     GET,  true",
            "~,              ~,      ~,        ~,              ~,      ~,    true",
            "~,              /,      ~,        ~,              /a,     ~,    true",
            "shop.example,   ~,      ~,        ~,              ~,      ~,    false",
            "shop.example,   ~,      ~,        shop.example,   /a,     ~,    true",
            "shop.example,   ~,      ~,        www.shop.example, ~,    ~,    false",
            "*.shop.example, ~,      ~,        www.shop.example, /x,   GET,  true",
            "*.shop.example, ~,      ~,        *.a.shop.example, ~,    ~,    true",
            "*.shop.example, ~,      ~,        *.shop.example, /x,     ~,    true",
            "*.shop.example, ~,      ~,        shop.example,   ~,      ~,    false",
            "*.a.shop.example, ~,    ~,        *.shop.example, ~,      ~,    false",
            "www.shop.example, ~,    ~,        *.shop.example, ~,      ~,    false",
            "~,              /api,   ~,        ~,              /api/v1, ~,   true",
            "~,              /api/,  ~,        ~,              /api,   ~,    true",
            "~,              /api,   ~,        ~,              /apiv1, ~,    false",
            "~,              /api/v1, ~,       ~,              /api,   ~,    false",
            "~,              /api,   ~,        ~,              ~,      ~,    false",
            "~,              ~,      GET,      ~,              ~,      ~,    false",
            "~,              ~,      GET HEAD, ~,              ~,      HEAD, true",
            "~,              ~,      GET,      ~,              ~,      GET POST, false",
            "~,              ~,      ~,        ~,              ~,      GET,  true",
    })
    void covers(String host, String path, String methods, String laterHost, String laterPath, String laterMethods,
                boolean expected) {
        assertThat(route(host, path, methods).covers(route(laterHost, laterPath, laterMethods))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} {1} {2}: {3}")
    @CsvSource(nullValues = "~", value = {
            "shop.example,     /static/, ~,        shop.example/static",
            "*.shop.example,   ~,        ~,        *.shop.example/",
            "~,                /api/,    POST GET, '/api[POST,GET]'",
            "~,                ~,        ~,        /",
    })
    void labels(String host, String path, String methods, String label) {
        assertThat(route(host, path, methods).label()).isEqualTo(label);
    }
}

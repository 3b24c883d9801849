package pibl.demo;
public final class DemoBackend { public static void main(String[] a) {} }

package pibl.app;
public final class PiblMain { public static void main(String[] a) {} }

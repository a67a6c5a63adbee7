package dev.sprout.cli;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** PNG line plots (XChart), drawn headless and written atomically. */
final class Plot {
    private Plot() {
    }

    /** One line: its name and its points, drawn in the given order. */
    record Series(String name, double[] x, double[] y) {
    }

    static final int WIDTH = 900, HEIGHT = 600;

    /**
     * Draws the series as lines with markers and writes the PNG to {@code file} (a temporary file, then a rename);
     * the legend goes bottom right when the lines rise ({@code rising}), top right otherwise.
     */
    static void write(Path file, boolean rising, String title, String xLabel, String yLabel, List<Series> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setLegendPosition(rising ? Styler.LegendPosition.InsideSE : Styler.LegendPosition.InsideNE);
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setDecimalPattern("#,##0.####");
        for (Series s : series) {
            XYSeries xy = chart.addSeries(s.name(), s.x(), s.y());
            xy.setMarker(SeriesMarkers.CIRCLE);
        }
        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        TrainRun.writeAtomically(file, png);
    }
}

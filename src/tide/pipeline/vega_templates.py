"""dvc's default Vega-Lite templates (same names, same content, same order as ``dvc plots templates``).

Anchors ``<DVC_METRIC_*>`` are filled by ``tide.pipeline.vega``. Data, not code: kept identical to dvc so a
``.dvc/plots/NAME.json`` written by either tool means the same to both."""

from __future__ import annotations

import json

_RAW = {
    'simple': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "params": ["<DV'
        'C_METRIC_ZOOM_AND_PAN>"], "width": "<DVC_METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_'
        'HEIGHT>", "mark": {"type": "line", "tooltip": {"content": "data"}}, "encoding": {"x": {"fi'
        'eld": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"f'
        'ield": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>", "scale":'
        ' {"zero": false}}, "color": "<DVC_METRIC_COLOR>", "strokeDash": "<DVC_METRIC_STROKE_DASH>"'
        ', "tooltip": "<DVC_METRIC_TOOLTIP>"}}'
    ),
    'linear': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_'
        'METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "params": [{"name": "smooth", "'
        'value": 0.001, "bind": {"input": "range", "min": 0.001, "max": 1, "step": 0.001}}], "encod'
        'ing": {"x": {"field": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LA'
        'BEL>"}, "color": "<DVC_METRIC_COLOR>", "strokeDash": "<DVC_METRIC_STROKE_DASH>"}, "layer":'
        ' [{"layer": [{"params": ["<DVC_METRIC_ZOOM_AND_PAN>"], "mark": "line"}, {"transform": [{"f'
        'ilter": {"param": "hover", "empty": false}}], "mark": "point"}], "encoding": {"y": {"field'
        '": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>", "scale": {"z'
        'ero": false}}, "color": {"field": "rev", "type": "nominal"}}, "transform": [{"loess": "<DV'
        'C_METRIC_Y>", "on": "<DVC_METRIC_X>", "groupby": "<DVC_METRIC_GROUP_BY>", "bandwidth": {"s'
        'ignal": "smooth"}}]}, {"mark": {"type": "line", "opacity": 0.2}, "encoding": {"x": {"field'
        '": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"fiel'
        'd": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>", "scale": {"'
        'zero": false}}, "color": {"field": "rev", "type": "nominal"}}}, {"mark": {"type": "circle"'
        ', "size": 10}, "encoding": {"x": {"aggregate": "max", "field": "<DVC_METRIC_X>", "type": "'
        'quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"aggregate": {"argmax": "<DVC_METRI'
        'C_X>"}, "field": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"'
        ', "scale": {"zero": false}}, "color": {"field": "rev", "type": "nominal"}}}, {"transform":'
        ' [{"calculate": "<DVC_METRIC_PIVOT_FIELD>", "as": "pivot_field"}, {"pivot": "pivot_field",'
        ' "op": "mean", "value": "<DVC_METRIC_Y>", "groupby": ["<DVC_METRIC_X>"]}], "mark": {"type"'
        ': "rule", "tooltip": {"content": "data"}, "stroke": "grey"}, "encoding": {"opacity": {"con'
        'dition": {"value": 0.3, "param": "hover", "empty": false}, "value": 0}}, "params": [{"name'
        '": "hover", "select": {"type": "point", "fields": ["<DVC_METRIC_X>"], "nearest": true, "on'
        '": "mouseover", "clear": "mouseout"}}]}]}'
    ),
    'confusion': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "facet": {"colu'
        'mn": {"field": "rev", "sort": []}, "row": "<DVC_METRIC_ROW>"}, "params": [{"name": "showVa'
        'lues", "bind": {"input": "checkbox"}}], "spec": {"transform": [{"aggregate": [{"op": "coun'
        't", "as": "xy_count"}], "groupby": ["<DVC_METRIC_Y>", "<DVC_METRIC_X>"]}, {"impute": "xy_c'
        'ount", "groupby": "<DVC_METRIC_GROUP_BY_Y>", "key": "<DVC_METRIC_X>", "value": 0}, {"imput'
        'e": "xy_count", "groupby": "<DVC_METRIC_GROUP_BY_X>", "key": "<DVC_METRIC_Y>", "value": 0}'
        ', {"joinaggregate": [{"op": "max", "field": "xy_count", "as": "max_count"}], "groupby": []'
        '}, {"calculate": "datum.xy_count / datum.max_count", "as": "percent_of_max"}], "encoding":'
        ' {"x": {"field": "<DVC_METRIC_X>", "type": "nominal", "sort": "ascending", "title": "<DVC_'
        'METRIC_X_LABEL>"}, "y": {"field": "<DVC_METRIC_Y>", "type": "nominal", "sort": "ascending"'
        ', "title": "<DVC_METRIC_Y_LABEL>"}}, "layer": [{"mark": "rect", "width": "<DVC_METRIC_PLOT'
        '_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "encoding": {"color": {"field": "xy_count"'
        ', "type": "quantitative", "title": "", "scale": {"domainMin": 0, "nice": true}}}}, {"selec'
        'tion": {"label": {"type": "single", "on": "mouseover", "encodings": ["x", "y"], "empty": "'
        'none", "clear": "mouseout"}}, "mark": "rect", "encoding": {"tooltip": [{"field": "<DVC_MET'
        'RIC_X>", "type": "nominal"}, {"field": "<DVC_METRIC_Y>", "type": "nominal"}, {"field": "xy'
        '_count", "type": "quantitative"}], "opacity": {"condition": {"selection": "label", "value"'
        ': 1}, "value": 0}}}, {"transform": [{"filter": {"selection": "label"}}], "layer": [{"mark"'
        ': {"type": "rect", "color": "lightpink"}}]}, {"mark": "text", "encoding": {"text": {"condi'
        'tion": {"param": "showValues", "field": "xy_count", "type": "quantitative"}}, "color": {"c'
        'ondition": {"test": "datum.percent_of_max > 0.5", "value": "white"}, "value": "black"}}}]}'
        '}'
    ),
    'confusion_normalized': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "facet": {"colu'
        'mn": {"field": "rev", "sort": []}, "row": "<DVC_METRIC_ROW>"}, "spec": {"transform": [{"ag'
        'gregate": [{"op": "count", "as": "xy_count"}], "groupby": ["<DVC_METRIC_Y>", "<DVC_METRIC_'
        'X>"]}, {"impute": "xy_count", "groupby": ["rev", "<DVC_METRIC_Y>"], "key": "<DVC_METRIC_X>'
        '", "value": 0}, {"impute": "xy_count", "groupby": "<DVC_METRIC_GROUP_BY_X>", "key": "<DVC_'
        'METRIC_Y>", "value": 0}, {"joinaggregate": [{"op": "sum", "field": "xy_count", "as": "sum_'
        'y"}], "groupby": ["<DVC_METRIC_Y>"]}, {"calculate": "datum.xy_count / datum.sum_y", "as": '
        '"percent_of_y"}], "encoding": {"x": {"field": "<DVC_METRIC_X>", "type": "nominal", "sort":'
        ' "ascending", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"field": "<DVC_METRIC_Y>", "type": "'
        'nominal", "sort": "ascending", "title": "<DVC_METRIC_Y_LABEL>"}}, "layer": [{"mark": "rect'
        '", "width": "<DVC_METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "encoding": {'
        '"color": {"field": "percent_of_y", "type": "quantitative", "title": "", "scale": {"domain"'
        ': [0, 1]}}}}, {"selection": {"label": {"type": "single", "on": "mouseover", "encodings": ['
        '"x", "y"], "empty": "none", "clear": "mouseout"}}, "mark": "rect", "encoding": {"tooltip":'
        ' [{"field": "<DVC_METRIC_X>", "type": "nominal"}, {"field": "<DVC_METRIC_Y>", "type": "nom'
        'inal"}, {"field": "percent_of_y", "type": "quantitative", "format": ".2f"}], "opacity": {"'
        'condition": {"selection": "label", "value": 1}, "value": 0}}}, {"transform": [{"filter": {'
        '"selection": "label"}}], "layer": [{"mark": {"type": "rect", "color": "lightpink"}}]}, {"m'
        'ark": "text", "encoding": {"color": {"condition": {"test": "datum.percent_of_y > 0.5", "va'
        'lue": "white"}, "value": "black"}}}]}}'
    ),
    'scatter': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_'
        'METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "mark": {"type": "point", "tool'
        'tip": {"content": "data"}}, "params": ["<DVC_METRIC_ZOOM_AND_PAN>"], "encoding": {"x": {"f'
        'ield": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"'
        'field": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"}, "color'
        '": "<DVC_METRIC_COLOR>", "shape": "<DVC_METRIC_SHAPE>", "tooltip": "<DVC_METRIC_TOOLTIP>"}'
        '}'
    ),
    'scatter_jitter': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_'
        'METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "transform": [{"calculate": "ra'
        'ndom()", "as": "randomX"}, {"calculate": "random()", "as": "randomY"}], "mark": {"type": "'
        'point", "tooltip": {"content": "data"}}, "encoding": {"x": {"field": "<DVC_METRIC_X>", "ti'
        'tle": "<DVC_METRIC_X_LABEL>"}, "y": {"field": "<DVC_METRIC_Y>", "title": "<DVC_METRIC_Y_LA'
        'BEL>"}, "color": "<DVC_METRIC_COLOR>", "shape": "<DVC_METRIC_SHAPE>", "tooltip": "<DVC_MET'
        'RIC_TOOLTIP>", "xOffset": {"field": "randomX", "type": "quantitative"}, "yOffset": {"field'
        '": "randomY", "type": "quantitative"}}}'
    ),
    'smooth': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_'
        'METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "params": [{"name": "smooth", "'
        'value": 0.001, "bind": {"input": "range", "min": 0.001, "max": 1, "step": 0.001}}], "encod'
        'ing": {"x": {"field": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LA'
        'BEL>"}, "color": "<DVC_METRIC_COLOR>", "strokeDash": "<DVC_METRIC_STROKE_DASH>"}, "layer":'
        ' [{"layer": [{"params": ["<DVC_METRIC_ZOOM_AND_PAN>"], "mark": "line"}, {"transform": [{"f'
        'ilter": {"param": "hover", "empty": false}}], "mark": "point"}], "encoding": {"y": {"field'
        '": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>", "scale": {"z'
        'ero": false}}, "color": {"field": "rev", "type": "nominal"}}, "transform": [{"loess": "<DV'
        'C_METRIC_Y>", "on": "<DVC_METRIC_X>", "groupby": "<DVC_METRIC_GROUP_BY>", "bandwidth": {"s'
        'ignal": "smooth"}}]}, {"mark": {"type": "line", "opacity": 0.2}, "encoding": {"x": {"field'
        '": "<DVC_METRIC_X>", "type": "quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"fiel'
        'd": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>", "scale": {"'
        'zero": false}}, "color": {"field": "rev", "type": "nominal"}}}, {"mark": {"type": "circle"'
        ', "size": 10}, "encoding": {"x": {"aggregate": "max", "field": "<DVC_METRIC_X>", "type": "'
        'quantitative", "title": "<DVC_METRIC_X_LABEL>"}, "y": {"aggregate": {"argmax": "<DVC_METRI'
        'C_X>"}, "field": "<DVC_METRIC_Y>", "type": "quantitative", "title": "<DVC_METRIC_Y_LABEL>"'
        ', "scale": {"zero": false}}, "color": {"field": "rev", "type": "nominal"}}}, {"transform":'
        ' [{"calculate": "<DVC_METRIC_PIVOT_FIELD>", "as": "pivot_field"}, {"pivot": "pivot_field",'
        ' "op": "mean", "value": "<DVC_METRIC_Y>", "groupby": ["<DVC_METRIC_X>"]}], "mark": {"type"'
        ': "rule", "tooltip": {"content": "data"}, "stroke": "grey"}, "encoding": {"opacity": {"con'
        'dition": {"value": 0.3, "param": "hover", "empty": false}, "value": 0}}, "params": [{"name'
        '": "hover", "select": {"type": "point", "fields": ["<DVC_METRIC_X>"], "nearest": true, "on'
        '": "mouseover", "clear": "mouseout"}}]}]}'
    ),
    'bar_horizontal_sorted': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_'
        'METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "mark": {"type": "bar"}, "param'
        's": ["<DVC_METRIC_ZOOM_AND_PAN>"], "encoding": {"x": {"field": "<DVC_METRIC_X>", "type": "'
        'quantitative", "title": "<DVC_METRIC_X_LABEL>", "scale": {"zero": false}}, "y": {"field": '
        '"<DVC_METRIC_Y>", "type": "nominal", "title": "<DVC_METRIC_Y_LABEL>", "sort": "-x"}, "yOff'
        'set": {"field": "rev", "sort": []}, "color": "<DVC_METRIC_COLOR>", "column": "<DVC_METRIC_'
        'COLUMN>"}}'
    ),
    'bar_horizontal': (
        '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_ME'
        'TRIC_DATA>"}, "title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_'
        'METRIC_PLOT_WIDTH>", "height": "<DVC_METRIC_PLOT_HEIGHT>", "mark": {"type": "bar"}, "param'
        's": ["<DVC_METRIC_ZOOM_AND_PAN>"], "encoding": {"x": {"field": "<DVC_METRIC_X>", "type": "'
        'quantitative", "title": "<DVC_METRIC_X_LABEL>", "scale": {"zero": false}}, "y": {"field": '
        '"<DVC_METRIC_Y>", "type": "nominal", "title": "<DVC_METRIC_Y_LABEL>"}, "yOffset": {"field"'
        ': "rev", "sort": []}, "color": "<DVC_METRIC_COLOR>", "column": "<DVC_METRIC_COLUMN>"}}'
    ),
}

NAMES = tuple(_RAW)


def default(name: str) -> dict | None:
    """A fresh copy of the default template ``name`` (None when there is none)."""
    raw = _RAW.get(name)
    return json.loads(raw) if raw is not None else None
